"""Email addresses and phone numbers: spelled-out forms, regions, and whose they are."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.leads.extraction.conftest import Facts


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("You can write to priya.raman@lumenlabs.io", "priya.raman@lumenlabs.io"),
        ("mail me at Sam.Lee@Example.COM please", "sam.lee@example.com"),
        ("reach me at jane at acme dot com", "jane@acme.com"),
        ("my email: j.doe [at] firm (dot) de", "j.doe@firm.de"),
        ("escríbeme a ana arroba empresa punto mx", "ana@empresa.mx"),
        ("email me: tom(at)northwind(dot)co(dot)uk", "tom@northwind.co.uk"),
        ("contact: max dot mustermann at firma dot de", "max.mustermann@firma.de"),
    ],
)
def test_email_is_read_in_plain_and_spelled_out_forms(facts: Facts, text: str, email: str) -> None:
    assert facts(text).get("email") == email


@pytest.mark.parametrize(
    "text",
    [
        "I'm a Manager at Acme.io",
        "Product Manager at Lumenlabs.io",
    ],
)
def test_a_job_at_a_dotted_company_is_not_an_email(facts: Facts, text: str) -> None:
    assert "email" not in facts(text)


@pytest.mark.parametrize(
    "text",
    [
        "my boss's email is rita@bigco.com",
        "please cc my manager at rita@bigco.com",
        "send it to him at jonathan@bigco.com",
        "I'm Dana, please loop in finance@reyesco.com",
    ],
)
def test_someone_elses_email_is_not_the_visitors(facts: Facts, text: str) -> None:
    assert "email" not in facts(text)


def test_visitors_email_is_kept_beside_a_colleagues(facts: Facts) -> None:
    text = "I'm at dana@reyesco.com, and please cc my colleague at sam@reyesco.com"
    assert facts(text).get("email") == "dana@reyesco.com"


@pytest.mark.parametrize(
    ("region", "text", "phone"),
    [
        ("US", "call me at (415) 555-0134", "+14155550134"),
        ("US", "my cell is 415.555.0134", "+14155550134"),
        ("GB", "ring me on +44 (0)20 7946 0321", "+442079460321"),
        ("GB", "my mobile is 07911 123456", "+447911123456"),
        ("DE", "Sie erreichen mich unter 030 12345678.", "+493012345678"),
        ("DE", "erreichbar unter +49 (0)89 24681357", "+498924681357"),
        ("FR", "mon numéro : 06 23 45 67 89", "+33623456789"),
        ("AU", "my mobile is 0423 456 789", "+61423456789"),
        ("AU", "my number is (02) 9374 4000", "+61293744000"),
        ("IN", "you can call me on 98765 43210", "+919876543210"),
        ("IN", "call me at +91 22 6654 3210", "+912266543210"),
    ],
)
def test_phone_is_written_in_e164_for_the_sites_region(
    facts: Facts, region: str, text: str, phone: str
) -> None:
    assert facts(text, region=region).get("phone") == phone


@pytest.mark.parametrize(
    ("region", "text", "phone"),
    [
        ("US", "my cell is 415.555.0134 ext. 22", "+14155550134"),
        ("US", "I'm on 212-555-0162, extension 12", "+12125550162"),
        ("US", "my number is 415-555-0134 x 7", "+14155550134"),
        ("GB", "best number is 020 7946 0321 ext. 204", "+442079460321"),
    ],
)
def test_phone_extension_is_dropped(facts: Facts, region: str, text: str, phone: str) -> None:
    assert facts(text, region=region).get("phone") == phone


def test_an_international_number_keeps_its_own_country(facts: Facts) -> None:
    assert facts("ring me on +44 20 7946 0321", region="US").get("phone") == "+442079460321"


@pytest.mark.parametrize(
    "text",
    [
        "call my colleague Tom on 212-555-0177",
        "my assistant's number is 212-555-0177",
        "If I'm out, my assistant picks up at 212-555-0177.",
    ],
)
def test_someone_elses_phone_is_not_the_visitors(facts: Facts, text: str) -> None:
    assert "phone" not in facts(text)


def test_visitors_phone_is_kept_beside_someone_elses(facts: Facts) -> None:
    text = "My direct line is 212-555-0162; for invoices ring our finance team at 212-555-0177."
    assert facts(text).get("phone") == "+12125550162"


def test_a_number_that_is_not_a_phone_is_not_taken(facts: Facts) -> None:
    assert "phone" not in facts("We need 25 seats for our 3 offices, order 123456.")
