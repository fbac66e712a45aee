"""The sdist: what it ships and the metadata PyPI shows."""

from __future__ import annotations

import email
import pathlib
import re
import subprocess
import sys
import tarfile

import pytest
from conftest import PATCHED

ROOT = pathlib.Path(__file__).parent.parent
pytestmark = pytest.mark.skipif(PATCHED, reason='packaging does not depend on the runtime mode')


@pytest.fixture(scope='module')
def sdist(tmp_path_factory: pytest.TempPathFactory) -> tarfile.TarFile:
    out = tmp_path_factory.mktemp('sdist')
    proc = subprocess.run(
        [sys.executable, '-c', 'import sys; from setuptools import build_meta; '
         'print(build_meta.build_sdist(sys.argv[1]))', str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return tarfile.open(out / proc.stdout.split()[-1])


def members(sdist: tarfile.TarFile) -> set[str]:
    return {name.split('/', 1)[1] for name in sdist.getnames() if '/' in name}


def metadata(sdist: tarfile.TarFile) -> email.message.Message:
    pkg_info = next(m for m in sdist.getmembers() if m.name.count('/') == 1
                    and m.name.endswith('/PKG-INFO'))
    data = sdist.extractfile(pkg_info)
    assert data is not None
    return email.message_from_bytes(data.read())


def test_the_sdist_ships_no_half_test_tree(sdist: tarfile.TarFile) -> None:
    names = members(sdist)
    assert not [name for name in names if name.startswith('tests/')]
    assert {'gatasker/__init__.py', 'gatasker/py.typed', 'README.md', 'LICENSE'} <= names


def test_every_supported_python_has_a_classifier(sdist: tarfile.TarFile) -> None:
    meta = metadata(sdist)
    classifiers = meta.get_all('Classifier') or []
    ci = (ROOT / '.ci' / 'run').read_text()
    versions = re.search(r'CI_PYTHONS:-([\d. ]+)\}', ci)
    assert versions is not None
    for version in versions.group(1).split():
        assert f'Programming Language :: Python :: {version}' in classifiers
    assert meta['Requires-Python'] == f'>={versions.group(1).split()[0]}'


def test_the_readme_on_pypi_has_no_broken_relative_links(sdist: tarfile.TarFile) -> None:
    description = metadata(sdist).get_payload()
    assert isinstance(description, str) and '## Tasks' in description
    relative = re.findall(r'\]\((?!https?://|#)([^)]*)\)', description)
    assert relative == []
    # the doc files it names by path ship in the sdist
    named = set(re.findall(r'`(docs/[\w.-]+\.md)`', description))
    assert named and named <= members(sdist)
