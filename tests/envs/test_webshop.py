from __future__ import annotations

import pytest

from entropy_dynamics.envs import make_env
from entropy_dynamics.envs.webshop import (
    clean_webshop_observation,
    parse_webshop_action,
    webshop_action_valid,
    webshop_admissible,
)
from entropy_dynamics.errors import EntropyDynamicsError

TASK = "i need a long clip-in hair extension which is natural looking, and price lower than 40.00 dollars"
# Text-mode pages in WebShop's own layout (" [SEP] "-joined visible text).
SEARCH_PAGE = f"WebShop [SEP] Instruction: [SEP] {TASK} [SEP] Search"
RESULTS_PAGE = (f"Instruction: [SEP] {TASK} [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next > "
                "[SEP] B09QQLDJ93 [SEP] Clip in Hair Extensions [SEP] $19.99")
SEARCH_AVAILABLE = {"has_search_bar": True, "clickables": ["search"]}
RESULTS_AVAILABLE = {"has_search_bar": False, "clickables": ["back to search", "next >", "b09qqldj93"]}


def test_admissible_actions_from_available_actions() -> None:
    assert webshop_admissible(SEARCH_AVAILABLE) == ["search[<your query>]"]
    assert webshop_admissible(RESULTS_AVAILABLE) == ["click[back to search]", "click[next >]", "click[b09qqldj93]"]


@pytest.mark.parametrize(("action", "available", "valid"), [
    ("search[clip in hair extension]", SEARCH_AVAILABLE, True),
    ("search[]", SEARCH_AVAILABLE, False),
    ("click[search]", SEARCH_AVAILABLE, False),
    ("click[B09QQLDJ93]", RESULTS_AVAILABLE, True),
    ("click[Next >]", RESULTS_AVAILABLE, True),
    ("search[hair]", RESULTS_AVAILABLE, False),
    ("click[buy now]", RESULTS_AVAILABLE, False),
    ("buy the hair extension", RESULTS_AVAILABLE, False),
])
def test_action_validity(action: str, available: dict, valid: bool) -> None:
    assert webshop_action_valid(action, available) is valid


def test_parse_action() -> None:
    assert parse_webshop_action(" click[Buy  Now] ") == ("click", "buy now")
    assert parse_webshop_action("search[Red Shoes]") == ("search", "Red Shoes")
    assert parse_webshop_action("buy now") is None


def test_observation_drops_the_instruction_header() -> None:
    assert clean_webshop_observation(SEARCH_PAGE, TASK) == "Search"
    cleaned = clean_webshop_observation(RESULTS_PAGE, TASK)
    assert cleaned.startswith("Back to Search [SEP] Page 1 (Total results: 50)") and TASK not in cleaned


def test_missing_webshop_names_the_setup_step() -> None:
    with pytest.raises(EntropyDynamicsError, match=r"princeton-nlp/WebShop.*setup.sh") as info:
        make_env("webshop")
    assert "\n" not in str(info.value)
