"""The widget's configuration: the Site's look checked and made legible, served by CORS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from leads.models import Site
from leads.theme import BLACK, INK, WHITE, contrast, palette, theme_parse

pytestmark = pytest.mark.django_db

PAGE = "http://localhost:8001"


def test_contrast_matches_the_wcag_reference_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#1f5eff", "#1f5eff") == pytest.approx(1.0)


@pytest.mark.parametrize(
    "brand", ["#1f5eff", "#ffd400", "#00a86b", "#ffffff", "#000000", "#7f7f7f", "#e63946"]
)
def test_every_brand_colour_gets_text_that_passes_aa(brand):
    colors = palette(brand)
    assert contrast(colors["brand"], colors["on_brand"]) >= 4.5
    assert contrast(colors["brand_text"], WHITE) >= 4.5


def test_a_light_brand_colour_falls_back_to_ink_for_text_on_white():
    assert palette("#ffd400") == {"brand": "#ffd400", "on_brand": BLACK, "brand_text": INK}


@pytest.mark.parametrize(
    ("theme", "where"),
    [
        ({"color": "blue"}, "color"),
        ({"position": "top"}, "position"),
        ({"avatar_url": "javascript:alert(1)"}, "avatar_url"),
        ({"title": "x" * 61}, "title"),
        ({"colour": "#ffffff"}, "colour"),
    ],
)
def test_a_bad_theme_is_refused_naming_the_key(theme, where):
    site = Site(key="t", name="T", theme=theme)
    with pytest.raises(ValidationError) as caught:
        site.clean()
    assert where in caught.value.message_dict["theme"][0]


def test_consent_needs_a_privacy_notice():
    site = Site(key="t", name="T", consent_required=True)
    with pytest.raises(ValidationError) as caught:
        site.clean()
    assert "privacy_notice_url" in caught.value.message_dict


def test_theme_defaults_fill_what_the_site_leaves_out():
    theme = theme_parse({"color": "#ABCDEF"})
    assert (theme.color, theme.position, theme.title) == ("#abcdef", "right", "")


@pytest.fixture
def shop(db):
    return Site.objects.create(
        key="shop",
        name="Shop",
        allowed_origins=[PAGE],
        greeting="Hello there",
        theme={"color": "#ffd400", "title": "Shop help", "position": "left"},
        privacy_notice_url="https://shop.example/privacy",
        consent_required=True,
    )


def test_config_for_an_allowed_origin_carries_cors_and_caching(client, shop, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 500
    response = client.get("/api/widget/shop/", headers={"Origin": PAGE})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == PAGE
    assert "Origin" in response["Vary"]
    assert "max-age=300" in response["Cache-Control"]
    config = response.json()
    assert config["title"] == "Shop help"
    assert config["greeting"] == "Hello there"
    assert config["position"] == "left"
    assert config["colors"]["on_brand"] == BLACK
    assert config["privacy"] == {
        "url": "https://shop.example/privacy",
        "consent_required": True,
    }
    assert config["max_chars"] == 500


def test_config_is_revalidated_by_etag(client, shop):
    first = client.get("/api/widget/shop/", headers={"Origin": PAGE})
    again = client.get(
        "/api/widget/shop/", headers={"Origin": PAGE, "If-None-Match": first["ETag"]}
    )
    assert again.status_code == 304
    shop.greeting = "Changed"
    shop.save()
    changed = client.get(
        "/api/widget/shop/", headers={"Origin": PAGE, "If-None-Match": first["ETag"]}
    )
    assert changed.status_code == 200 and changed.json()["greeting"] == "Changed"


def test_config_for_another_origin_is_refused_with_a_code(client, shop):
    response = client.get("/api/widget/shop/", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "allowed origins" in response.json()["detail"]
    assert response["Access-Control-Allow-Origin"] == "*"  # the widget may read why


def test_config_of_an_unknown_site_says_which_key(client, shop):
    response = client.get("/api/widget/nope/", headers={"Origin": PAGE})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_site"
    assert "'nope'" in response.json()["detail"]


def test_config_without_a_theme_uses_the_site_name_and_default_colour(client, db):
    Site.objects.create(key="plain", name="Plain Co", allowed_origins=[PAGE])
    config = client.get("/api/widget/plain/").json()
    assert config["title"] == "Plain Co"
    assert config["colors"]["brand"] == "#1f5eff"
    assert config["privacy"] is None


def test_a_theme_saved_before_it_was_checked_falls_back_to_the_defaults(client, db, caplog):
    Site.objects.create(key="old", name="Old Co", allowed_origins=[PAGE], theme={"color": "blue"})
    response = client.get("/api/widget/old/", headers={"Origin": PAGE})
    assert response.status_code == 200
    assert response.json()["colors"]["brand"] == "#1f5eff"
    assert "site old: invalid theme" in caplog.text
