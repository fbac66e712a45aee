"""Measure gatasker's structure and hold it to a ratchet.

    python scripts/architecture.py [PACKAGE_DIR] [-v] [--check]

Reads the package's source with `ast` (nothing is imported) and prints:

* import cycles among the package's modules: every import counts, including
  imports inside functions ("lazy" imports are still a cycle); a second count
  adds the imports under `if TYPE_CHECKING:`;
* private names (`_name`, not a module) imported from another module;
* parameters, returns and variables annotated exactly `Any`
  (`*args: Any` and `**kwargs: Any` count too; `dict[str, Any]` does not);
* `type: ignore` comments;
* the largest module and the largest class, in lines;
* private attributes reached on an object other than `self`/`cls`
  (a rough count of cross-object private access; `-v` lists them);
* package-internal imports made inside a function.

`--check` compares each measure with `LIMITS` and exits 1 naming every
measure above its limit. `LIMITS` is a ratchet: it starts at the measured
numbers and is lowered as the code improves, towards `TARGETS` (issue 16),
never raised. `tests/test_architecture.py` runs the check.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

#: The ratchet: the highest value each measure may have. Lower a number
#: when the code gets better; never raise one. Set at the end of issue 16:
#: the issue's target where it was met, else the number measured then.
LIMITS: dict[str, int] = {
    'runtime_cycles': 0,
    'typing_cycles': 0,
    'private_imports': 0,
    'any_annotations': 13,
    'type_ignores': 5,
    'largest_module': 556,
    'largest_class': 486,
    'private_attributes': 0,
    'lazy_imports': 0,
}

#: Where issue 16 wants the measures to end.
TARGETS: dict[str, int] = {
    'runtime_cycles': 0,
    'typing_cycles': 0,
    'private_imports': 0,
    'any_annotations': 40,
    'type_ignores': 5,
    'largest_module': 400,
    'largest_class': 300,
    'private_attributes': 0,
    'lazy_imports': 0,
}

# Private attributes of these modules are not another object's state.
_STDLIB_BASES = frozenset({
    '_thread', 'asyncio', 'functools', 'gevent', 'greenlet', 'monkey', 'multiprocessing',
    'os', 'signal', 'socket', 'sys', 'threading', 'typing',
})

# Private names of other packages that gatasker must set, each with why; not
# counted (the measure is about gatasker's own objects).
_THIRD_PARTY_PRIVATES = frozenset({
    # distributed makes its "offload" thread pool when imported and offers no
    # public way to replace it; under patch_all() that pool's threads are
    # greenlets of the importing thread's hub, which cannot serve a client
    # living in gatasker_dask's thread (gatasker/contrib/_dask_client.py).
    'distributed.utils._offload_executor',
})

# The package's own accessors: a module-level function of the module that
# defines a class, giving the package's other modules the private part of
# that class's instances. Each is the one place that private attribute is
# read from outside the class; its own module owns both. Not counted.
_ACCESSORS = frozenset({
    # An actor's state and transport live in its cell (`ActorCell`), under
    # the one attribute an Actor subclass's user code must not clash with;
    # the actor-side modules (supervision, pools, death-watch) work on cells.
    'gatasker._actor.cell_of',
    # What actors and workers use of their TaskSupervisor (its ActorRegistry);
    # a public attribute would be new public API.
    'gatasker._supervisor.actor_host',
    # A task's done-state (`TaskCore`), whose callbacks run in the thread that
    # ends the task; `as_completed` needs exactly that, and Task's public
    # add_done_callback runs in a hub greenlet instead.
    'gatasker._task.core_of',
})


@dataclass
class Module:
    """One parsed module of the package."""

    name: str
    path: Path
    source: str
    tree: ast.Module

    @property
    def is_package(self) -> bool:
        return self.path.name == '__init__.py'


@dataclass
class Report:
    """Everything measured in one package."""

    runtime_cycles: list[list[str]] = field(default_factory=list)
    typing_cycles: list[list[str]] = field(default_factory=list)
    private_imports: list[str] = field(default_factory=list)
    any_by_module: dict[str, int] = field(default_factory=dict)
    type_ignores: int = 0
    module_sizes: list[tuple[int, str]] = field(default_factory=list)
    class_sizes: list[tuple[int, str]] = field(default_factory=list)
    private_attributes: list[str] = field(default_factory=list)
    lazy_imports: list[str] = field(default_factory=list)

    def measures(self) -> dict[str, int]:
        """The numbers `LIMITS` and `TARGETS` are about, by name."""
        return {
            'runtime_cycles': len(self.runtime_cycles),
            'typing_cycles': len(self.typing_cycles),
            'private_imports': len(self.private_imports),
            'any_annotations': sum(self.any_by_module.values()),
            'type_ignores': self.type_ignores,
            'largest_module': max((n for n, _ in self.module_sizes), default=0),
            'largest_class': max((n for n, _ in self.class_sizes), default=0),
            'private_attributes': len(self.private_attributes),
            'lazy_imports': len(self.lazy_imports),
        }


def load(package: Path) -> dict[str, Module]:
    """Parse every module under *package*, keyed by its dotted name."""
    modules: dict[str, Module] = {}
    for path in sorted(package.rglob('*.py')):
        parts = list(path.relative_to(package.parent).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts.pop()
        source = path.read_text()
        name = '.'.join(parts)
        modules[name] = Module(name, path, source, ast.parse(source, str(path)))
    return modules


def _imported_module(module: Module, node: ast.ImportFrom) -> str:
    """The dotted name `from X import ...` refers to, relative imports resolved."""
    if not node.level:
        return node.module or ''
    base = module.name.split('.')
    if not module.is_package:
        base.pop()
    base = base[:len(base) - (node.level - 1)]
    return '.'.join([*base, *([node.module] if node.module else [])])


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node under an `if TYPE_CHECKING:` block."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and 'TYPE_CHECKING' in ast.unparse(node.test):
            for statement in node.body:
                inside.update(id(child) for child in ast.walk(statement))
    return inside


def _function_nodes(tree: ast.Module) -> set[int]:
    """The ids of every node inside a function body."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement in node.body:
                inside.update(id(child) for child in ast.walk(statement))
    return inside


def _accessor_nodes(module: str, tree: ast.Module) -> set[int]:
    """The ids of every node inside the module's functions named in `_ACCESSORS`."""
    inside: set[int] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and f'{module}.{node.name}' in _ACCESSORS:
            inside.update(id(child) for child in ast.walk(node))
    return inside


def _is_any(annotation: ast.expr) -> bool:
    if isinstance(annotation, ast.Name):
        return annotation.id == 'Any'
    if isinstance(annotation, ast.Attribute):
        return annotation.attr == 'Any'
    return isinstance(annotation, ast.Constant) and annotation.value == 'Any'


def _annotations(node: ast.AST) -> Iterator[ast.expr]:
    """The annotations *node* itself carries (parameters, return, variable)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = node.args
        for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if arg is not None and arg.annotation is not None:
                yield arg.annotation
        if node.returns is not None:
            yield node.returns
    elif isinstance(node, ast.AnnAssign):
        yield node.annotation


def _strongly_connected(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module
    (or of one that imports itself), each sorted. Iterative Tarjan."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    found.append(sorted(component))
    return found


def measure(package: Path) -> Report:
    """Measure the package whose directory is *package*."""
    modules = load(package)
    report = Report()
    runtime_edges: dict[str, set[str]] = {name: set() for name in modules}
    typing_edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, module in modules.items():
        type_checking = _type_checking_nodes(module.tree)
        in_function = _function_nodes(module.tree)
        in_accessor = _accessor_nodes(name, module.tree)
        for node in ast.walk(module.tree):
            for annotation in _annotations(node):
                if _is_any(annotation):
                    report.any_by_module[name] = report.any_by_module.get(name, 0) + 1
            if isinstance(node, ast.ImportFrom):
                target = _imported_module(module, node)
                pairs = [(alias.name, f'{target}.{alias.name}') for alias in node.names]
            elif isinstance(node, ast.Import):
                pairs = [(alias.name, alias.name) for alias in node.names]
                target = ''
            else:
                if (isinstance(node, ast.Attribute) and node.attr.startswith('_')
                        and not node.attr.startswith('__')):
                    base = node.value
                    if not (isinstance(base, ast.Name)
                            and (base.id in ('self', 'cls') or base.id in _STDLIB_BASES)
                            ) and ast.unparse(node) not in _THIRD_PARTY_PRIVATES \
                            and id(node) not in in_accessor:
                        report.private_attributes.append(
                            f'{name}:{node.lineno}: {ast.unparse(node)}')
                continue
            for imported, full in pairs:
                dependency = full if full in modules else target if target in modules else None
                if dependency is None:
                    continue
                edges = typing_edges if id(node) in type_checking else runtime_edges
                edges[name].add(dependency)
                if id(node) in in_function and dependency != name:
                    report.lazy_imports.append(f'{name}:{node.lineno}: {ast.unparse(node)}')
                if (isinstance(node, ast.ImportFrom) and imported.startswith('_')
                        and not imported.startswith('__') and full not in modules
                        and dependency != name):
                    report.private_imports.append(f'{name}: from {target} import {imported}')
        report.type_ignores += module.source.count('type: ignore')
        report.module_sizes.append((len(module.source.splitlines()), name))
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                report.class_sizes.append(
                    (node.end_lineno - node.lineno + 1, f'{name}.{node.name}'))
    report.module_sizes.sort(reverse=True)
    report.class_sizes.sort(reverse=True)
    report.runtime_cycles = _strongly_connected(runtime_edges)
    both = {name: runtime_edges[name] | typing_edges[name] for name in modules}
    report.typing_cycles = _strongly_connected(both)
    return report


def exceeded(measures: Mapping[str, int], limits: Mapping[str, int]) -> list[str]:
    """One line per measure above its limit (empty: all within)."""
    return [f'{name} = {measures[name]} > {limit}'
            for name, limit in limits.items() if measures[name] > limit]


def render(report: Report, *, verbose: bool = False) -> Iterator[str]:
    """The report as lines of text, each measure with its limit and target."""
    measures = report.measures()
    for name, value in measures.items():
        yield f'{name}: {value} (limit {LIMITS[name]}, target {TARGETS[name]})'
        if name == 'runtime_cycles':
            yield from (f'    {len(c)} {c}' for c in report.runtime_cycles)
        elif name == 'typing_cycles':
            yield from (f'    {len(c)} {c}' for c in report.typing_cycles)
        elif name == 'private_imports':
            yield from (f'    {line}' for line in report.private_imports)
        elif name == 'any_annotations':
            ranked = sorted(report.any_by_module.items(), key=lambda item: -item[1])
            yield '    ' + ', '.join(f'{module} {count}' for module, count in ranked)
        elif name == 'largest_module':
            yield '    ' + ', '.join(f'{m} {n}' for n, m in report.module_sizes[:6])
        elif name == 'largest_class':
            yield '    ' + ', '.join(f'{c} {n}' for n, c in report.class_sizes[:6])
        elif name == 'private_attributes' and verbose:
            yield from (f'    {line}' for line in report.private_attributes)
        elif name == 'lazy_imports' and verbose:
            yield from (f'    {line}' for line in report.lazy_imports)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('package', nargs='?', type=Path,
                        default=Path(__file__).resolve().parent.parent / 'gatasker',
                        help='the package directory (default: gatasker next to scripts/)')
    parser.add_argument('-v', '--verbose', action='store_true',
                        help='list every private attribute reached and every lazy import')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if a measure is above its limit in LIMITS')
    args = parser.parse_args(argv)
    if not (args.package / '__init__.py').is_file():
        parser.error(f'{args.package} is not a package directory')
    report = measure(args.package)
    for line in render(report, verbose=args.verbose):
        print(line)
    if args.check:
        over = exceeded(report.measures(), LIMITS)
        for line in over:
            print(f'ABOVE THE RATCHET: {line}', file=sys.stderr)
        return 1 if over else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
