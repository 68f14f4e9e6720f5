"""The house's rules, read from the source: imports run one way, no cycles, modules stay small.

The graph comes from ``tests/import_graph.py`` (``python tests/import_graph.py`` prints it). Where
the code does not meet a rule yet, the exceptions are listed here by name; such a list may only
shrink, and a test fails when an entry no longer applies, so it cannot go stale.
"""
import import_graph as g

EDGES = g.edges()

#: Imports up the layers that are still to be removed (none now; keep it empty).
KNOWN_UPWARD: set = set()

#: Modules still longer than MAX_LINES, with their length when this list was written.
MAX_LINES = 400
KNOWN_LONG: dict = {}



def test_the_graph_reader_sees_the_package():
    mods = g.modules()
    assert {"stylelab.images", "stylelab.checkpoints", "stylelab.methods.adain", "stylelab.plots.gallery"} <= set(mods)
    pairs = {(a, b) for a, b, _ in EDGES}
    assert ("stylelab.methods.adain", "stylelab.checkpoints") in pairs
    assert ("stylelab.widgets.compare", "stylelab.plots.gallery") in pairs


def test_the_cycle_finder_finds_a_cycle():
    fake = [("a", "b", False), ("b", "c", True), ("c", "a", False), ("c", "d", False)]
    assert g.cycles(fake) == [["a", "b", "c"]]
    assert g.cycles(fake[1:]) == []


def test_every_module_has_a_layer():
    for name in g.modules():
        g.layer(name)  # raises KeyError naming the module if DESIGN.md's map lacks it


def test_no_import_cycles():
    assert g.cycles(EDGES) == []


def test_no_import_points_up_the_layers():
    up = set(g.upward(EDGES))
    assert up - KNOWN_UPWARD == set(), "new imports up the layers (see DESIGN.md's map)"
    assert KNOWN_UPWARD - up == set(), "fixed: remove these from KNOWN_UPWARD"


def test_stylelab_modules_are_imported_at_the_top():
    lazy = g.lazy(EDGES)
    assert lazy == [], f"in-function imports of stylelab modules: {lazy}; import them at the top of the module"


def test_the_lazy_import_finder_finds_one(tmp_path, monkeypatch):
    pkg = tmp_path / "stylelab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "images.py").write_text("X = 1\n")
    (pkg / "stats.py").write_text("def f():\n    from .images import X\n    return X\n")
    monkeypatch.setattr(g, "PACKAGE", pkg)
    assert g.lazy(g.edges()) == [("stylelab.stats", "stylelab.images")]


def test_modules_stay_small():
    sizes = {n: len(p.read_text().splitlines()) for n, p in g.modules().items()}
    long = {n for n, k in sizes.items() if k > MAX_LINES}
    assert long - set(KNOWN_LONG) == set(), f"split these by topic before they pass {MAX_LINES} lines"
    assert set(KNOWN_LONG) - long == set(), "short enough now: remove these from KNOWN_LONG"
    grown = {n: sizes[n] for n in KNOWN_LONG if sizes[n] > KNOWN_LONG[n]}
    assert not grown, f"modules over {MAX_LINES} lines grew: {grown}"
