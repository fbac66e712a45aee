"""The docstrings as the API reference renders them (mkdocstrings, Google style).

mkdocstrings prints reST roles such as ``:meth:`stop``` literally, shows a
public method without a docstring as a bare signature, and leaves out a
public name that ``docs/api.md`` does not name. These tests read the source
with ``ast`` and ``tokenize``; the package is imported only to find the public
classes (``__all__``) and their source files.
"""

from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import gatasker

PACKAGE = Path(gatasker.__file__).parent
API_PAGE = PACKAGE.parent / 'docs' / 'api.md'

# Sphinx roles, with or without the ``py:`` domain: ``:meth:`x```, ``:py:class:`X```.
ROLE = re.compile(r':(?:py:)?(?:meth|class|func|attr|exc|mod|data|obj|const|ref|term):`')


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob('*.py'))


def _texts(path: Path) -> Iterator[tuple[int, str]]:
    """Every docstring (module, class, function, attribute) and comment of *path*."""
    source = path.read_text(encoding='utf-8')
    for node in ast.walk(ast.parse(source, str(path))):
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            yield node.lineno, node.value.value
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string


def _roles(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    found = []
    for lineno, text in _texts(path):
        for match in ROLE.finditer(text):
            line = lineno + text.count('\n', 0, match.start())
            found.append(f'{path.relative_to(root)}:{line}: {match.group(0)}')
    return found


def test_no_rest_roles_in_docstrings_or_comments() -> None:
    found = [hit for path in _modules() for hit in _roles(path)]
    assert not found, 'reST roles render literally in mkdocs; use backticks:\n' + '\n'.join(found)


def test_role_scan_sees_docstrings_comments_and_attribute_docstrings(tmp_path: Path) -> None:
    sample = tmp_path / 'sample.py'
    sample.write_text(
        '"""Module, see :class:`Task`."""\n'
        'X = 1\n'
        '"""Attribute, see :data:`X`."""\n'
        'def f() -> None:\n'
        '    """Calls :py:meth:`Task.get`."""\n'
        '    # and :func:`g` in a comment\n'
        '    s = "a :meth:`string` is not a docstring"\n',
        encoding='utf-8')
    hits = _roles(sample, tmp_path)
    assert [hit.split(': ', 1)[1] for hit in hits] == [
        ':class:`', ':data:`', ':py:meth:`', ':func:`']
    assert [hit.split(':')[1] for hit in hits] == ['1', '3', '5', '6']


def _public_classes() -> list[type]:
    classes = []
    for name in gatasker.__all__:
        obj = getattr(gatasker, name)
        if inspect.isclass(obj) and obj.__module__.startswith('gatasker'):
            classes.append(obj)
    return classes


def _class_node(cls: type) -> tuple[Path, ast.ClassDef]:
    path = Path(inspect.getfile(cls))
    tree = ast.parse(path.read_text(encoding='utf-8'), str(path))
    body: list[ast.stmt] = tree.body
    node: ast.ClassDef | None = None
    for part in cls.__qualname__.split('.'):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        assert node is not None, f'{cls.__qualname__} not found in {path}'
        body = node.body
    assert node is not None
    return path, node


def _is_variant(func: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """An ``@overload`` signature or a property's setter/deleter: documented elsewhere."""
    for deco in func.decorator_list:
        if isinstance(deco, ast.Name) and deco.id == 'overload':
            return True
        if isinstance(deco, ast.Attribute) and (
                deco.attr in ('setter', 'deleter') or deco.attr == 'overload'):
            return True
    return False


def _undocumented(cls: type) -> list[str]:
    """Public methods (and the class) without a docstring, along the MRO inside gatasker."""
    missing = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith('gatasker'):
            continue
        path, node = _class_node(klass)
        where = f'{path.relative_to(PACKAGE.parent)}:{node.lineno}'
        if ast.get_docstring(node) is None:
            missing.append(f'{where}: class {klass.__qualname__}')
        for item in node.body:
            if (isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                    and not item.name.startswith('_') and not _is_variant(item)
                    and ast.get_docstring(item) is None):
                missing.append(f'{path.relative_to(PACKAGE.parent)}:{item.lineno}: '
                               f'{klass.__qualname__}.{item.name}')
    return missing


def test_every_public_method_of_a_public_class_has_a_docstring() -> None:
    classes = _public_classes()
    names = {cls.__name__ for cls in classes}
    assert {'TaskSupervisor', 'Task', 'Actor', 'BackgroundWorker',
            'BackgroundIntervalWorker', 'BackgroundQueueWorker',
            'BackgroundEventWorker', 'BackgroundCronWorker',
            'BackgroundAsyncWorker'} <= names
    missing = sorted({hit for cls in classes for hit in _undocumented(cls)})
    assert not missing, 'no docstring (the API reference shows a bare signature):\n' + '\n'.join(
        missing)


def test_every_public_name_is_on_the_api_page() -> None:
    page = API_PAGE.read_text(encoding='utf-8')
    rendered = set(re.findall(r'^::: gatasker\.(\w+)$', page, re.M))
    described = set(re.findall(r'`(\w+)`', page))
    absent = sorted(name for name in gatasker.__all__
                    if name not in rendered and name not in described)
    assert not absent, f'public names missing from docs/api.md: {absent}'
    unknown = sorted(name for name in rendered
                     if name not in gatasker.__all__ and name not in ('contrib', 'testing'))
    assert not unknown, f'docs/api.md renders names that are not public: {unknown}'
