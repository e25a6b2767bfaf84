"""Portal pages. For now one placeholder page that lists the layers; the Folium viewer,
siting, reconciliation and quota pages replace it in the portal issue."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from gis.layers.catalogue import load_catalogue

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def index() -> str:
    items = "\n".join(
        f"<li><code>{escape(layer.id)}</code> {escape(layer.zh)} — {escape(layer.en)}</li>"
        for layer in load_catalogue()
    )
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>一张图 One-Map</title>
<style>body{{font-family:sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}}</style>
</head><body>
<h1>一张图 One-Map</h1>
<p>国土空间规划一张图服务（宁夏）。地图门户建设中；接口见 <a href="/docs">/docs</a>，
健康检查见 <a href="/health">/health</a>。</p>
<p>Territorial spatial planning one-map service for Ningxia. The map portal is under
construction; see the API at <a href="/docs">/docs</a> and <a href="/health">/health</a>.</p>
<h2>图层 Layers</h2><ul>{items}</ul>
</body></html>"""
