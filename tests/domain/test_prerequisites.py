from domain.prerequisites import find_cycle


def test_no_cycle_in_a_dag():
    edges = [("input-output", "variables"), ("variables", "type-conversion"), ("input-output", "type-conversion")]
    assert find_cycle(edges) is None
    assert find_cycle([]) is None


def test_finds_a_closed_path():
    cycle = find_cycle([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"} and len(cycle) == 4
    # every step is an edge
    edges = {("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}
    assert all((x, y) in edges for x, y in zip(cycle, cycle[1:]))


def test_self_loop_and_cycle_after_an_acyclic_part():
    assert find_cycle([("x", "x")]) == ["x", "x"]
    assert find_cycle([("a", "b"), ("a", "c"), ("c", "d"), ("d", "c")]) == ["c", "d", "c"]


def test_long_chain_does_not_hit_the_recursion_limit():
    chain = [(i, i + 1) for i in range(5000)]
    assert find_cycle(chain) is None
    assert find_cycle(chain + [(5000, 0)]) == list(range(5001)) + [0]
