"""The action catalogue through the HTTP API."""

from __future__ import annotations

import httpx

from switchyard.actions.sdk import action_types, get_action


async def test_list_pages_through_the_whole_catalogue(api: httpx.AsyncClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 7} | ({"cursor": cursor} if cursor else {})
        body = (await api.get("/api/v1/actions", params=params)).json()
        assert len(body["items"]) <= 7
        for item in body["items"]:
            assert set(item) == {"type", "title", "group", "connection_type", "options"}
        seen += [item["type"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == action_types()


async def test_filters(api: httpx.AsyncClient) -> None:
    echo = get_action("core.echo")
    found = (await api.get("/api/v1/actions", params={"q": "ECHO"})).json()["items"]
    assert "core.echo" in [i["type"] for i in found]
    assert all("echo" in i["type"] or "echo" in i["title"].lower() for i in found)
    by_title = (await api.get("/api/v1/actions", params={"q": echo.title.lower()})).json()
    assert "core.echo" in [i["type"] for i in by_title["items"]]
    group = (await api.get("/api/v1/actions", params={"group": echo.group})).json()["items"]
    assert group and all(i["group"] == echo.group for i in group)
    assert "core.echo" in [i["type"] for i in group]
    none = await api.get("/api/v1/actions", params={"q": "no-such-action-anywhere"})
    assert none.json() == {"items": [], "next_cursor": None}


async def test_one_action_has_its_schemas(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/v1/actions/http.request")
    assert r.status_code == 200
    body = r.json()
    assert body["type"] == "http.request"
    assert body["input_schema"]["type"] == "object" and "url" in body["input_schema"]["properties"]
    assert "output_schema" in body and "examples" in body
    assert (await api.get("/api/v1/actions/no.such")).status_code == 404
