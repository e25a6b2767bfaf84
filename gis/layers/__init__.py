"""Layers: the catalogue, the table schema, and import/export."""

from gis.layers.catalogue import Catalogue, Layer, LayerField, get_layer, load_catalogue

__all__ = ["Catalogue", "Layer", "LayerField", "get_layer", "load_catalogue"]
