"""scripts/architecture.py measures the package's structure, and the package
stays within its ratchet (import cycles, private imports, exact-Any
annotations, type: ignores, module and class sizes)."""

from __future__ import annotations

import ast
import importlib.util
import pathlib
import subprocess
import sys
import textwrap
from types import ModuleType

import pytest

ROOT = pathlib.Path(__file__).parent.parent
SCRIPT = ROOT / 'scripts' / 'architecture.py'


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location('gatasker_architecture', SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


architecture = load_script()


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                          text=True, timeout=60)


def write_package(root: pathlib.Path, files: dict[str, str]) -> pathlib.Path:
    package = root / 'pkg'
    package.mkdir()
    (package / '__init__.py').write_text('')
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))
    return package


def test_the_package_is_within_the_ratchet() -> None:
    proc = run_script('--check')
    assert proc.returncode == 0, (
        'a structure measure went above its limit in scripts/architecture.py LIMITS '
        '(lower the code, never raise the limit):\n' + proc.stderr + proc.stdout)


def test_limits_and_targets_cover_every_measure() -> None:
    measured = architecture.Report().measures()
    assert set(architecture.LIMITS) == set(measured) == set(architecture.TARGETS)


def test_each_measure_counts_what_it_says(tmp_path: pathlib.Path) -> None:
    package = write_package(tmp_path, {
        # a <-> b only through a lazy import: still a runtime cycle
        'a.py': '''
            from .b import _hidden, visible

            def late() -> None:
                from . import b
            ''',
        'b.py': '''
            from . import a
            _hidden = visible = 1
            ''',
        # c <-> d only through TYPE_CHECKING: a typing cycle, not a runtime one
        'c.py': '''
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .d import D
            ''',
        'd.py': '''
            import typing
            from typing import Any
            from .c import TYPE_CHECKING

            class D:
                value: typing.Any

                def f(self, x: Any, *args: Any, **kwargs: Any) -> 'Any':
                    self._mine = other._theirs  # type: ignore
                    return dict[str, Any]()
            ''',
    })
    report = architecture.measure(package)
    assert report.runtime_cycles == [['pkg.a', 'pkg.b']]
    assert report.typing_cycles == [['pkg.a', 'pkg.b'], ['pkg.c', 'pkg.d']]
    assert report.private_imports == ['pkg.a: from pkg.b import _hidden']
    assert report.any_by_module == {'pkg.d': 5}  # value, x, *args, **kwargs, return
    assert report.type_ignores == 1
    assert report.private_attributes == ['pkg.d:10: other._theirs']
    assert report.lazy_imports == ['pkg.a:5: from . import b']
    assert report.class_sizes == [(6, 'pkg.d.D')]
    assert report.module_sizes[0] == (11, 'pkg.d')
    measures = report.measures()
    assert measures['largest_module'] == 11 and measures['largest_class'] == 6


def test_check_exits_1_naming_the_measure_above_its_limit(tmp_path: pathlib.Path) -> None:
    too_long = architecture.LIMITS['largest_module'] + 1
    package = write_package(tmp_path, {'big.py': 'x = 1\n' * too_long})
    proc = run_script(str(package), '--check')
    assert proc.returncode == 1
    assert f'largest_module = {too_long} >' in proc.stderr
    assert proc.stderr.count('ABOVE THE RATCHET') == 1
    assert run_script(str(package)).returncode == 0  # without --check it only reports


def test_a_directory_that_is_not_a_package_is_an_error(tmp_path: pathlib.Path) -> None:
    proc = run_script(str(tmp_path), '--check')
    assert proc.returncode == 2 and 'not a package directory' in proc.stderr


def test_exceeded_lists_only_what_is_above() -> None:
    assert architecture.exceeded({'a': 3, 'b': 2, 'c': 0}, {'a': 2, 'b': 2, 'c': 1}) == \
        ['a = 3 > 2']


def test_accessors_and_third_party_privates_are_not_counted(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = write_package(tmp_path, {
        'a.py': '''
            import lib

            def part_of(owner):
                return owner._part

            def elsewhere(owner):
                lib._hook = owner._part
            ''',
    })
    monkeypatch.setattr(architecture, '_ACCESSORS', frozenset({'pkg.a.part_of'}))
    monkeypatch.setattr(architecture, '_THIRD_PARTY_PRIVATES', frozenset({'lib._hook'}))
    assert architecture.measure(package).private_attributes == ['pkg.a:8: owner._part']


def test_every_exemption_still_names_real_code() -> None:
    # A stale exemption would hide a later reach with the same name: each one
    # must still be an accessor reading a private attribute, or a name in use.
    package = ROOT / 'gatasker'
    for accessor in architecture._ACCESSORS:
        module, _, function = accessor.rpartition('.')
        path = package.joinpath(*module.split('.')[1:]).with_suffix('.py')
        [node] = [node for node in ast.parse(path.read_text()).body
                  if isinstance(node, ast.FunctionDef) and node.name == function]
        assert any(isinstance(child, ast.Attribute) and child.attr.startswith('_')
                   and not child.attr.startswith('__') for child in ast.walk(node)), accessor
    source = '\n'.join(path.read_text() for path in package.rglob('*.py'))
    for name in architecture._THIRD_PARTY_PRIVATES:
        assert name in source, name
