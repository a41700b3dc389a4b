"""GET /api/v1/catalog: the public catalogue, its shape and its content."""
from __future__ import annotations

from tipoff.reference import services


def catalog(client) -> dict:
    response = client.get("/api/v1/catalog")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def test_catalog_needs_no_token_and_has_four_lists(client):
    body = catalog(client)
    assert set(body) == {"categories", "sectors", "townships", "departments"}
    for items in body.values():
        assert items and all({"code", "name", "name_en"} <= set(item) for item in items)


def test_catalog_content(client):
    body = catalog(client)
    assert [c["code"] for c in body["categories"]] == [
        "major_hazard", "hazard", "violation", "concealed_accident", "other"]
    sectors = {s["code"]: s for s in body["sectors"]}
    assert len(sectors) == 22
    assert (sectors["gas"]["name"], sectors["gas"]["lead_department"]) == ("燃气", "zjj")
    assert sectors["hazchem_transport"]["lead_department"] == "jtj"
    assert sectors["other"]["lead_department"] is None
    townships = {t["name"]: t for t in body["townships"]}
    assert len(townships) == 19
    assert townships["灵井镇"] == {"code": "lingjing", "name": "灵井镇", "name_en": "Lingjing Town", "kind": "镇",
                                  "department": "tw_lingjing"}
    assert townships["艾庄回族乡"]["kind"] == "民族乡"
    departments = {d["code"]: d for d in body["departments"]}
    assert departments["ajw"] == {"code": "ajw", "name": "区安委会办公室",
                                  "name_en": "Work Safety Committee Office", "kind": "committee_office"}
    assert departments["tw_lingjing"]["kind"] == "township"
    assert [s["code"] for s in body["sectors"]][:3] == ["gas", "hazchem", "mining"]  # display order


def test_catalog_shows_only_active_rows_and_current_leads(app, client):
    with app.app_context():
        services.update_department("rsj", name="区人力资源和社会保障局", email=None, phone=None, active=False,
                                   actor="test")
        services.update_sector_lead("new_formats", "wlj", actor="test")
    body = catalog(client)
    assert "rsj" not in {d["code"] for d in body["departments"]}
    assert {s["code"]: s["lead_department"] for s in body["sectors"]}["new_formats"] == "wlj"


def test_catalog_is_not_cached(client):
    # An administrator's change must show at once, not after a proxy's cache expires.
    assert client.get("/api/v1/catalog").headers["Cache-Control"] == "no-store"
