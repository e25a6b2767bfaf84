"""Attributes of the sample forest sub-compartments and grassland parcels.

Kept apart from the drawing (``_forest``) because they are the part a reader checks against
the forestry survey's conventions: land class, species, origin, category, owner, certificate.
Every value is drawn from the builder's one random generator, in drawing order.
"""

from __future__ import annotations

from gis.samples import _geo as geo
from gis.samples import _places as places
from gis.samples._model import FARM_NAME, RESERVE_NAME, RESERVE_OWNER, YYH_FARM, Parcel

WORDS_SIZHI = ("山脊", "沟底", "林道", "草地", "林班线", "巡护道路", "渠道", "农田", "村道",
               "防火隔离带", "荒地", "沙丘")
SURNAMES = ("马", "王", "李", "杨", "张", "刘", "丁", "田", "何", "苏")


class ForestAttributeSteps:
    """The parcel-attribute steps of the sample builder (a mixin of ``Builder``): each returns
    or sets attributes only, drawing from ``rng`` and placing parcels with ``where``."""

    def _cert(self, prefix: str) -> str:
        return f"{prefix}第{int(self.rng.integers(1000, 9999)):07d}号"

    def _sizhi(self) -> str:
        w = self.rng.choice(len(WORDS_SIZHI), 4)
        return "东至{}，西至{}，南至{}，北至{}".format(*(WORDS_SIZHI[i] for i in w))

    def _forest_attrs(self, mosaic: str, county: str, parcel: Parcel, k: int,
                      lin_ban0: int) -> dict:
        rng = self.rng
        where = self.where(geo.to_deg(parcel.terr_m.representative_point()))
        per = 30
        attrs = {"lin_ban": f"{lin_ban0 + k // per:03d}", "xiao_ban": f"{k % per + 1:03d}",
                 "boundaries": self._sizhi(), "certificate_area_mu": None}
        if mosaic == "reserve":
            land, species = [("乔木林地", "青海云杉"), ("乔木林地", "油松"), ("灌木林地", "山杏"),
                             ("疏林地", "油松")][int(rng.choice(4, p=[0.4, 0.3, 0.2, 0.1]))]
            age = int(rng.integers(60, 140) if land != "灌木林地" else rng.integers(25, 60))
            attrs.update(township=RESERVE_NAME, village="大武口管理站", land_class=land,
                         forest_type="特种用途林", origin="天然", dominant_species=species,
                         stand_age=age, forest_category="public_welfare",
                         public_welfare_level="national", owner=RESERVE_OWNER,
                         certificate_status="old_certificate",
                         certificate_no=f"石林证字(2006)第{int(rng.integers(100, 999)):04d}号",
                         acquired_date="2006-09-18")
        elif mosaic == "woodland":
            individual = rng.random() < 0.45
            owner = (f"{SURNAMES[int(rng.integers(len(SURNAMES)))]}某某(个人)" if individual
                     else "星海镇" + self.villages[where["village_code"]]["village"].name
                     + "村民委员会")
            year = int(rng.integers(2009, 2016))
            attrs.update(township="星海镇", village=where["village_name"], land_class="乔木林地",
                         forest_type="用材林" if individual else "防护林", origin="人工",
                         dominant_species="杨树", stand_age=2023 - year,
                         forest_category="commercial" if individual else "public_welfare",
                         public_welfare_level=None if individual else "local", owner=owner,
                         certificate_status="issued",
                         certificate_no=self._cert("宁(2019)大武口区不动产权"),
                         acquired_date=f"{year}-04-{int(rng.integers(1, 28)):02d}")
        elif mosaic == "yueyahu":
            land, species = [("灌木林地", "柠条"), ("灌木林地", "沙棘"), ("乔木林地", "杨树")][
                int(rng.choice(3, p=[0.55, 0.3, 0.15]))]
            year = int(rng.integers(2003, 2018))
            attrs.update(township=YYH_FARM, village="滨河分场" if k % 2 else "沙区分场",
                         land_class=land, forest_type="防护林", origin="人工",
                         dominant_species=species, stand_age=2023 - year,
                         forest_category="public_welfare",
                         public_welfare_level="national" if rng.random() < 0.4 else "local",
                         owner=YYH_FARM, certificate_status="issued",
                         certificate_no=self._cert("宁(2020)银川市不动产权"),
                         acquired_date=f"{year}-05-{int(rng.integers(1, 28)):02d}")
        else:
            land, species = [("乔木林地", "油松"), ("灌木林地", "山杏"), ("灌木林地", "柠条"),
                             ("灌木林地", "沙棘"), ("乔木林地", "杨树")][
                int(rng.choice(5, p=[0.3, 0.25, 0.2, 0.15, 0.1]))]
            year = int(rng.integers(2017, 2022))
            attrs.update(township=FARM_NAME, village=mosaic, land_class=land,
                         forest_type="防护林", origin="人工", dominant_species=species,
                         stand_age=2023 - year, forest_category="public_welfare",
                         public_welfare_level="national" if mosaic != "北武当林区" else "local",
                         owner=FARM_NAME, certificate_status="issued",
                         certificate_no=self._cert("宁(2021)大武口区不动产权"),
                         acquired_date=f"{year}-10-{int(rng.integers(1, 28)):02d}")
        return attrs

    def _grass_attrs(self, mosaic: str, county: str, parcel: Parcel) -> dict:
        rng = self.rng
        where = self.where(geo.to_deg(parcel.terr_m.representative_point()))
        if county == places.XQ:
            gclass, gtype = [("温性荒漠草原类", "甘草+苦豆子型"), ("温性荒漠草原类", "沙蒿型"),
                             ("温性草原化荒漠类", "蒙古冰草+杂类草型")][int(rng.integers(3))]
            owner = "月牙湖乡" + ("镇河村" if rng.random() < 0.5 else "塔桥村") + "股份经济合作社"
            cert = f"兴草证字(2015)第{int(rng.integers(10, 300)):03d}号"
        else:
            gclass, gtype = [("温性荒漠草原类", "短花针茅+猫头刺型"),
                             ("温性草原化荒漠类", "红砂+珍珠猪毛菜型"),
                             ("温性荒漠草原类", "蒙古冰草+杂类草型")][int(rng.integers(3))]
            owner = FARM_NAME
            cert = f"石草证字(2016)第{int(rng.integers(10, 300)):03d}号"
        return {"grass_class": gclass, "grass_type": gtype, "township": where["township_name"],
                "village": where.get("village_name"), "owner": owner, "certificate_no": cert,
                "certificate_area_mu": None}
