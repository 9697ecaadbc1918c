"""Who the visitor is: name, job title and company, however they introduce themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.leads.extraction.conftest import Facts


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi, I'm Priya Raman and we're looking for a CRM.", "Priya Raman"),
        ("my name is Tomasz Nowak", "Tomasz Nowak"),
        ("Hello! Lena Fischer here, we run three warehouses.", "Lena Fischer"),
        ("Raj here", "Raj"),
        ("this is Imani Okafor from Brightline Studios", "Imani Okafor"),
        ("Je m'appelle Hélène Dubois.", "Hélène Dubois"),
        ("Me llamo Inés Carrasco.", "Inés Carrasco"),
        ("Ich heiße Jonas Weber.", "Jonas Weber"),
        ("my name is Jan de Vries", "Jan de Vries"),
    ],
)
def test_name_is_read_from_a_self_introduction(facts: Facts, text: str, name: str) -> None:
    assert facts(text).get("name") == name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Thanks for the info.\nBest regards,\nMarcus Webb", "Marcus Webb"),
        ("Sounds good.\nCheers,\nRaj", "Raj"),
        ("See you then.\n--\nPriya Raman\nCTO, Lumen Labs", "Priya Raman"),
    ],
)
def test_name_is_read_from_a_sign_off(facts: Facts, text: str, name: str) -> None:
    assert facts(text).get("name") == name


def test_signature_gives_title_and_company_under_the_name(facts: Facts) -> None:
    text = "Please send the quote.\nKind regards,\nMarcus Webb\nIT Director | Merrow Shipping Ltd"
    got = facts(text)
    assert (got.get("job_title"), got.get("company")) == ("IT Director", "Merrow Shipping Ltd")


def test_name_and_title_are_read_from_a_filled_in_form(facts: Facts) -> None:
    got = facts("Name: Sofia Marino\nRole: Purchasing Manager\nSeats: 12")
    assert (got.get("name"), got.get("job_title")) == ("Sofia Marino", "Purchasing Manager")


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("Name: Sofia Marino\nCompany: Fratelli Rossi S.p.A.", "Fratelli Rossi S.p.A."),
        ("Company: Zeewind Software B.V.\nSeats: 9", "Zeewind Software B.V."),
    ],
)
def test_company_from_a_form_keeps_its_legal_form(facts: Facts, text: str, company: str) -> None:
    assert facts(text).get("company") == company


def test_name_given_in_answer_to_who_am_i_speaking_with(facts: Facts) -> None:
    got = facts(
        "Imani Okafor, Operations Lead at Brightline Studios",
        question="Lovely! Who am I speaking with?",
    )
    assert got.get("name") == "Imani Okafor"


def test_name_given_with_an_email_in_answer_to_who_am_i_speaking_with(facts: Facts) -> None:
    got = facts("Imani Okafor, imani@brightline.studio", question="Who am I speaking with?")
    assert got.get("name") == "Imani Okafor"


def test_name_given_with_a_phone_in_answer_to_who_am_i_speaking_with(facts: Facts) -> None:
    got = facts("Imani Okafor, 212-555-0162", question="Who am I speaking with?")
    assert got.get("name") == "Imani Okafor"


@pytest.mark.parametrize(
    "text",
    [
        "my boss Rosa Delgado will want to see a demo",
        "please talk to my manager, Rosa Delgado",
        "My colleague Ben Carter asked me to reach out.",
    ],
)
def test_someone_elses_name_is_not_the_visitors(facts: Facts, text: str) -> None:
    assert "name" not in facts(text)


def test_visitors_name_is_kept_beside_their_bosss(facts: Facts) -> None:
    assert facts("my manager is Rosa Delgado, I'm Ken Ito").get("name") == "Ken Ito"


@pytest.mark.parametrize(
    "text",
    ["I'm looking for a quote", "I'm interested in your product", "I'm Happy with the demo"],
)
def test_words_after_im_that_are_not_a_name_are_not_taken(facts: Facts, text: str) -> None:
    assert "name" not in facts(text)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "Hello! Lena Fischer here, Head of Operations at Elbufer Logistik.",
            "Head of Operations",
        ),
        ("I am the VP of Sales at Quantum Leap Inc.", "VP of Sales"),
        ("I'm the Marketing Director at Brightline Studios", "Marketing Director"),
        ("I'm Priya Raman, CTO at Lumen Labs.", "CTO"),
        ("I'm the head of support at Lumen Labs.", "head of support"),
    ],
)
def test_english_job_title_is_read(facts: Facts, text: str, title: str) -> None:
    assert facts(text).get("job_title") == title


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("I'm a product manager at Lumen Labs.", "product manager"),
        ("I'm the IT manager at Lumen Labs.", "IT manager"),
        ("I'm a software engineer at Lumen Labs.", "software engineer"),
    ],
)
def test_lowercase_english_job_title_is_read(facts: Facts, text: str, title: str) -> None:
    got = facts(text)
    assert (got.get("job_title"), got.get("company")) == (title, "Lumen Labs")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("soy jefe de almacén en Ferretería Lumbre", "jefe de almacén"),
        (
            "Me llamo Inés Carrasco, directora de marketing en Grupo Alba.",
            "directora de marketing",
        ),
        ("soy Carla Ruiz, jefa de ventas en Textiles Ruiz S.L.", "jefa de ventas"),
        ("je suis directrice financière chez Maison Verte SAS", "directrice financière"),
        ("je suis chef de projet chez Vertigo", "chef de projet"),
    ],
)
def test_lowercase_spanish_and_french_job_title_is_read(
    facts: Facts, text: str, title: str
) -> None:
    assert facts(text).get("job_title") == title


@pytest.mark.parametrize(
    ("text", "company"),
    [
        (
            "Hello! Lena Fischer here, Head of Operations at Elbufer Logistik GmbH.",
            "Elbufer Logistik GmbH",
        ),
        ("I work at Zeewind Software B.V. as a developer", "Zeewind Software B.V."),
        ("I'm the COO of Godavari Textiles Pvt. Ltd.", "Godavari Textiles Pvt. Ltd."),
        ("I'm the buyer at Fratelli Rossi S.p.A. and we need 20 seats.", "Fratelli Rossi S.p.A."),
        ("soy Carla Ruiz, jefa de ventas en Textiles Ruiz S.L.", "Textiles Ruiz S.L."),
        ("je suis directrice financière chez Maison Verte SAS", "Maison Verte SAS"),
        ("I'm Dr. Anna Berg from Acme Widgets GmbH", "Acme Widgets GmbH"),
    ],
)
def test_company_is_read_with_its_legal_form(facts: Facts, text: str, company: str) -> None:
    assert facts(text).get("company") == company


def test_honorific_is_not_part_of_the_name(facts: Facts) -> None:
    assert facts("I'm Dr. Anna Berg from Acme Widgets GmbH").get("name") == "Anna Berg"
