"""The shape of handlers/: no import circle, features never import each other, and no import
hides inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
# Shared modules every feature may import; they import no feature themselves.
LEAVES = {"callbacks", "longtext", "replies", "taps", "errors"}
ROUTER = "__init__"


def modules() -> dict[str, ast.Module]:
    return {p.stem: ast.parse(p.read_text(), str(p)) for p in sorted(HANDLERS.glob("*.py"))}


def handler_imports(tree: ast.AST) -> set[str]:
    """The handlers modules a module imports (by module name, "__init__" for the package)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "handlers":
                found |= {alias.name for alias in node.names}
                found.add(ROUTER)
            elif node.module.startswith("handlers."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "handlers":
                    found.add(ROUTER)
                elif alias.name.startswith("handlers."):
                    found.add(alias.name.split(".")[1])
    return found


def graph() -> dict[str, set[str]]:
    trees = modules()
    return {name: handler_imports(tree) & set(trees) - {name} for name, tree in trees.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every circle found by a depth-first walk (each reported once, from where it closes)."""
    found, state = [], dict.fromkeys(edges, 0)  # 0 unseen, 1 on the path, 2 done

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt])
            elif state.get(nxt) == 0:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(edges):
        if state[start] == 0:
            walk(start, [start])
    return found


def test_the_cycle_finder_finds_a_circle_and_none_where_there_is_none():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []


def test_handlers_have_no_import_circle():
    edges = graph()
    assert {"onboarding", "safety", "replies"} <= edges[ROUTER]  # the graph is really read
    assert cycles(edges) == []


def test_features_import_only_the_shared_leaves_and_the_leaves_import_no_feature():
    edges = graph()
    for name, imported in edges.items():
        if name == ROUTER:
            continue
        assert imported <= LEAVES, f"handlers/{name}.py imports {sorted(imported - LEAVES)}"


def test_no_import_is_hidden_inside_a_function():
    for name, tree in modules().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = [n for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)]
                assert inner == [], f"handlers/{name}.py: an import inside {node.name}()"


def test_no_conversation_handler_persistence_or_private_ptb_attribute_remains():
    sources = [
        p.read_text() for p in [*HANDLERS.glob("*.py"), *HANDLERS.parent.glob("bot/**/*.py")]
    ]
    for banned in ("ConversationHandler", "BasePersistence", "_conversations", "_update_state"):
        assert not any(banned in text for text in sources), banned
