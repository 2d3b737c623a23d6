"""Tests of federation.sanitize: the nh3 allow-list of wire-format §13.4, html_to_text and text_to_html."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import federation.sanitize
from federation.sanitize import LINK_REL, html_to_text, sanitize_html, text_to_html

REL = f'rel="{LINK_REL}"'

HOSTILE_FRAGMENTS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<style>body{display:none}</style>",
    '<iframe src="https://evil.example"></iframe>',
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<!--<script>alert(1)</script>-->",
    '<p onclick="alert(1)" style="color:red">',
    "<b>",
    "</p>",
    "texte & <accents> éà",
    '<a href="https://ok.example/" rel="me" class="mention evil">',
    "<object data=javascript:alert(1)></object>",
    "<template><script>alert(1)</script></template>",
    "<textarea><script>alert(1)</script></textarea>",
]


def _assert_inert(output: str) -> None:
    lowered = output.lower()
    for needle in ("<script", "</script", "<style", "<iframe", "<img", "<svg", "<math", "<object"):
        assert needle not in lowered, (needle, output)
    assert "javascript:" not in lowered
    assert "data:" not in lowered
    assert re.search(r"\son\w+\s*=", lowered) is None, output
    assert "style=" not in lowered


def test_sanitize_html__keeps_the_allowed_tags() -> None:
    fragment = (
        "<p>a<br><strong>b</strong><b>c</b><em>d</em><i>e</i><u>f</u><del>g</del><s>h</s></p>"
        "<pre><code>x = 1</code></pre><blockquote><p>q</p></blockquote>"
        "<ul><li>un</li></ul><ol><li>deux</li></ol><p><span>s</span></p>"
    )

    assert sanitize_html(fragment) == fragment


def test_sanitize_html__drops_scripts_styles_and_frames_with_their_content() -> None:
    output = sanitize_html(
        "<p>avant<script>alert('x')</script><style>p{color:red}</style>"
        "<iframe src='https://evil.example'>cadre</iframe>après</p>"
    )

    assert output == "<p>avantaprès</p>"


def test_sanitize_html__unwraps_other_tags_and_keeps_their_text() -> None:
    output = sanitize_html("<div><h1>Titre</h1><table><tr><td>cellule</td></tr></table></div>")

    assert output == "Titrecellule"


def test_sanitize_html__removes_images_and_event_handlers() -> None:
    output = sanitize_html('<p onmouseover="alert(1)" style="x">t<img src=x onerror="alert(1)"></p>')

    assert output == "<p>t</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "&#106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "/admin",
        "//evil.example/path",
        "ftp://files.example/x",
    ],
)
def test_sanitize_html__removes_hrefs_outside_http_https_mailto(href: str) -> None:
    output = sanitize_html(f'<a href="{href}">lien</a>')

    assert output == f"<a {REL}>lien</a>"


@pytest.mark.parametrize(
    "href",
    ["https://velo-fives.example/x?a=1&amp;b=2", "http://ancien.example/", "mailto:contact@fives.example"],
)
def test_sanitize_html__keeps_http_https_and_mailto_hrefs(href: str) -> None:
    output = sanitize_html(f'<a href="{href}">lien</a>')

    assert output == f'<a href="{href}" {REL}>lien</a>'


def test_sanitize_html__forces_rel_on_every_link() -> None:
    output = sanitize_html('<a href="https://a.example/" rel="me tag" target="_blank">a</a><a>b</a>')

    assert output == f'<a href="https://a.example/" {REL}>a</a><a {REL}>b</a>'


def test_sanitize_html__keeps_only_known_classes_on_a_and_span() -> None:
    output = sanitize_html(
        '<p class="badge-offer"><a href="https://t.example/tags/pret" class="mention hashtag button">#'
        '<span class="notice">Pret</span></a><span class="invisible">https://</span></p>'
    )

    assert output == (
        f'<p><a href="https://t.example/tags/pret" class="mention hashtag" {REL}>#<span>Pret</span></a>'
        '<span class="invisible">https://</span></p>'
    )


def test_sanitize_html__keeps_the_wire_format_listing_content() -> None:
    content = (
        "<p><strong>Prêt : perceuse-visseuse 18 V</strong></p><p>Lille (59) · caution 30 €</p>"
        '<p><a href="https://partage-lille.example/tags/pret" class="mention hashtag" rel="tag">'
        "#<span>Pret</span></a></p>"
    )

    assert sanitize_html(content) == content.replace('rel="tag"', REL)


@pytest.mark.parametrize("fragment", HOSTILE_FRAGMENTS)
def test_sanitize_html__neutralises_hostile_fragments(fragment: str) -> None:
    _assert_inert(sanitize_html(fragment))


@given(st.lists(st.sampled_from(HOSTILE_FRAGMENTS) | st.text(max_size=8), max_size=12))
def test_sanitize_html__neutralises_any_mix_of_hostile_fragments(pieces: list[str]) -> None:
    output = sanitize_html("".join(pieces))

    _assert_inert(output)
    assert sanitize_html(output) == output


def test_sanitize_html__is_idempotent_on_nested_tricks() -> None:
    once = sanitize_html("<<scr<script>ipt>alert(1)</script>><a href='javascript:x'><b>ok</b></a>")

    assert sanitize_html(once) == once
    _assert_inert(once)


def test_sanitize_html__empty_input_gives_empty_output() -> None:
    assert sanitize_html("") == ""


def test_html_to_text__paragraphs_lines_and_entities() -> None:
    text = html_to_text("<p>Caution&nbsp;: 30 &euro; &amp; plus</p><p>ligne 1<br>ligne   2</p>")

    assert text == "Caution\xa0: 30 € & plus\n\nligne 1\nligne 2"


def test_html_to_text__never_returns_script_or_style_content() -> None:
    text = html_to_text("<p>a</p><script>alert(1)</script><style>p{}</style><iframe>cadre</iframe><p>b</p>")

    assert text == "a\n\nb"


def test_html_to_text__reads_hashtags_lists_and_preformatted_text() -> None:
    text = html_to_text(
        '<p><a href="https://t.example/tags/pret" class="mention hashtag">#<span>Pret</span></a></p>'
        "<ul><li>un</li><li>deux</li></ul><pre>a  b\n  c</pre>"
    )

    assert text == "#Pret\n\nun\ndeux\n\na  b\n  c"


def test_html_to_text__plain_text_comes_back_unchanged() -> None:
    assert html_to_text("Vélo & Co") == "Vélo & Co"
    assert html_to_text("") == ""


def test_text_to_html__escapes_and_builds_paragraphs() -> None:
    html = text_to_html("Bonjour <b>toi</b> & co\nligne 2\r\n\r\n\n  Fin  ")

    assert html == "<p>Bonjour &lt;b&gt;toi&lt;/b&gt; &amp; co<br>ligne 2</p><p>Fin</p>"


def test_text_to_html__empty_or_blank_text_gives_empty_string() -> None:
    assert text_to_html("") == ""
    assert text_to_html(" \n\n \r\n") == ""


def test_text_to_html__passes_the_allow_list_unchanged() -> None:
    html = text_to_html("<script>alert(1)</script>\n\nhttps://a.example/?x=1&y=2")

    assert sanitize_html(html) == html
    assert html_to_text(html) == "<script>alert(1)</script>\n\nhttps://a.example/?x=1&y=2"


def test_sanitize_module__imports_nothing_from_the_app_layers() -> None:
    source = Path(federation.sanitize.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])

    assert imported.isdisjoint({"starlette", "jinja2", "tortoise", "fedicoop", "fastapi"})
