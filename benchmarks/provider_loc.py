"""Lines of code per provider: how much each one carries beside the shared seam.

    python benchmarks/provider_loc.py

Counts code lines (not blank, not comment-only, not docstring) of each registered provider's
package, without its sandbox and seed (``sandbox*.py``, ``seed.py``, a ``sandbox/`` package),
plus its mappings module. The shared layer (``providers/base.py``, ``http.py``, ``oauth.py``,
``sandbox_server.py``) is listed once, on its own line.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
        tokenize.ENCODING, tokenize.ENDMARKER}  # fmt: skip


def code_lines(path: Path) -> int:
    source = path.read_text(encoding="utf-8")
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    end = body[0].end_lineno or body[0].lineno
                    docstrings.update(range(body[0].lineno, end + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in SKIP:
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if line not in docstrings:
                lines.add(line)
    return len(lines)


def provider_files(name: str) -> list[Path]:
    package = ROOT / "providers" / name
    files = [
        p
        for p in sorted(package.glob("*.py"))
        if not p.name.startswith("sandbox") and p.name != "seed.py"
    ]
    mapping = ROOT / "mappings" / f"{name}.py"
    return files + ([mapping] if mapping.exists() else [])


def sandbox_files(name: str) -> list[Path]:
    package = ROOT / "providers" / name
    own = [
        p
        for p in sorted(package.glob("*.py"))
        if p.name.startswith("sandbox") or p.name == "seed.py"
    ]
    return own + sorted((package / "sandbox").glob("*.py"))


def main() -> int:
    names = sorted(p.parent.name for p in (ROOT / "providers").glob("*/__init__.py"))
    print(f"{'provider':12} {'code lines':>10}  {'files':>5}  sandbox+seed  breakdown")
    for name in names:
        files = provider_files(name)
        counts = {f.relative_to(ROOT).as_posix(): code_lines(f) for f in files}
        sandbox = sum(code_lines(f) for f in sandbox_files(name))
        detail = ", ".join(f"{Path(k).name}={v}" for k, v in counts.items())
        print(f"{name:12} {sum(counts.values()):>10}  {len(files):>5}  {sandbox:>12}  {detail}")
    shared = [
        ROOT / "providers" / f for f in ("base.py", "http.py", "oauth.py", "sandbox_server.py")
    ]
    print(f"{'shared':12} {sum(code_lines(f) for f in shared):>10}  {len(shared):>5}  "
          f"{'':>12}  " + ", ".join(f"{f.name}={code_lines(f)}" for f in shared))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
