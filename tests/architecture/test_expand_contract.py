"""Migrations that run while the service answers (docs/deployment.md, "Upgrading"): a release's upgrade
only expands the schema, so that the processes of the release before, still running during the rolling
restart, keep working on it; what it drops or renames comes in a later release, in a migration that says
it is a contract step. Read from the source, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = [
    *sorted((ROOT / "api" / "migrations" / "versions").glob("*.py")),
    *sorted((ROOT / "bot" / "migrations").glob("*/versions/*.py")),
]
# Written before this rule: the releases they came in stopped the service to migrate.
BEFORE_THE_RULE = {
    *(f"{n:04d}" for n in range(1, 25)),
    *(f"c{n:03d}" for n in range(1, 6)),
    "s001",
    *(f"t{n:03d}" for n in range(1, 3)),
}
CONTRACT_MARK = "Contract step"
# Operations that take away what the release before may still read or write.
CONTRACTING = {"drop_column", "drop_table", "rename_table"}


def problems(source: str) -> list[str]:
    """What in ``source``'s ``upgrade()`` would break the release before while it still runs."""
    tree = ast.parse(source)
    marked = CONTRACT_MARK in (ast.get_docstring(tree) or "")
    found = []
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"):
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
            keywords = {k.arg: k.value for k in call.keywords}
            if (name in CONTRACTING or (name == "alter_column" and "new_column_name" in keywords)) and not marked:
                found.append(f"line {call.lineno}: {name} outside a contract step")
            if name == "add_column":
                found += _new_column_problems(call)
    return sorted(found, key=lambda problem: int(problem.split(":")[0].split()[1]))


def _new_column_problems(call: ast.Call) -> list[str]:
    """A column added NOT NULL without a server default makes the release before fail on every insert."""
    column = next((a for a in call.args if isinstance(a, ast.Call)), None)
    if column is None:
        return []
    keywords = {k.arg: k.value for k in column.keywords}
    not_null = isinstance(keywords.get("nullable"), ast.Constant) and keywords["nullable"].value is False
    if not_null and "server_default" not in keywords:
        return [f"line {call.lineno}: a NOT NULL column without a server default"]
    return []


def test_each_migration_since_the_rule_only_expands_unless_it_is_a_contract_step() -> None:
    since = [path for path in MIGRATIONS if path.stem.split("_")[0] not in BEFORE_THE_RULE]
    assert len(since) + len(BEFORE_THE_RULE) == len(MIGRATIONS)  # every migration is one or the other
    found = {path.name: problems(path.read_text(encoding="utf-8")) for path in since}
    assert {name: listed for name, listed in found.items() if listed} == {}


EXPANDING = '''"""adds what the next release reads"""
def upgrade():
    op.add_column("work_orders", sa.Column("priority", sa.String(8), nullable=True))
    op.add_column("work_orders", sa.Column("channel", sa.String(8), nullable=False, server_default="wechat"))
    op.create_index("ix_priority", "work_orders", ["priority"])
def downgrade():
    op.drop_column("work_orders", "priority")
'''
BREAKING = '''"""moves a column"""
def upgrade():
    with op.batch_alter_table("work_orders") as batch:
        batch.alter_column("phone", new_column_name="phone_number")
        batch.drop_column("address")
    op.add_column("work_orders", sa.Column("priority", sa.String(8), nullable=False))
'''


def test_the_rule_tells_an_expanding_migration_from_one_that_breaks_the_running_release() -> None:
    assert problems(EXPANDING) == []  # what downgrade() drops is no concern of a rolling upgrade
    assert problems(BREAKING) == [
        "line 4: alter_column outside a contract step",
        "line 5: drop_column outside a contract step",
        "line 6: a NOT NULL column without a server default",
    ]
    contract = BREAKING.replace('"""moves a column"""', f'"""{CONTRACT_MARK}: the release before stopped using them"""')
    assert problems(contract) == ["line 6: a NOT NULL column without a server default"]
