"""Every query parameter of the portal pages and feeds, fuzzed: a page or a 400, never a 500.

The HTML pages and the feeds read the API's parameters with the API's parser; these runs check that
what the pages add (commune names in ``commune`` and ``near``, the form's own fields, path segments)
never turns hostile input into a server error, and that a refused value is echoed back escaped.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.fedicoop.test_search_api import PARAMETERS, VALUES, filled, territory  # noqa: F401 - fixtures

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("filled")]

PAGES = ("/catalogue", "/portal", "/catalogue.atom", "/catalogue.ics")
PATHS = ("/catalogue/items/{}", "/catalogue/nodes/{}", "/catalogue/actors/{}")
SEGMENTS = st.one_of(
    st.sampled_from(["1", "0", "-1", "99999999999999999999", "%00", "..", "%2e%2e", "127.0.0.1:1", "é"]),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/?#"), min_size=1, max_size=80),
)


def _check(response: httpx.Response) -> None:
    assert response.status_code in (200, 400), (response.status_code, response.text[:500])
    if response.headers.get("content-type", "").startswith("text/html"):
        assert "<script" not in response.text.lower()


@hypothesis_settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(PAGES), name=st.sampled_from(PARAMETERS), value=VALUES)
async def test_pages__a_fuzzed_parameter_gives_a_page_or_a_400(
    client: httpx.AsyncClient, path: str, name: str, value: str
) -> None:
    _check(await client.get(path, params={name: value}, headers={"Accept": "text/html"}))


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(PAGES),
    params=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, min_size=2, max_size=6),
)
async def test_pages__fuzzed_combinations_give_a_page_or_a_400(
    client: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    _check(await client.get(path, params=params, headers={"Accept": "text/html"}))


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(template=st.sampled_from(PATHS), segment=SEGMENTS)
async def test_pages__a_fuzzed_path_gives_a_page_a_400_or_a_404(
    client: httpx.AsyncClient, template: str, segment: str
) -> None:
    response = await client.get(template.format(quote(segment, safe=":%")))
    assert response.status_code in (200, 400, 404), (response.status_code, response.text[:500])
