"""The package as a user installs it: a wheel in a fresh virtualenv, used from a folder far from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv bin folder, environment without this checkout on the path). Dependencies come from the system
    site-packages (no network for them); the wheel itself is installed for real, not editable."""
    base = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"),
                            str(ROOT)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr
    wheel = next((base / "dist").glob("liaison-*.whl"))
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(base / "venv")
    bin_dir = base / "venv" / "bin"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("LIAISON_")}
    env["XDG_CONFIG_HOME"] = str(base / "xdg")
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install",
                              "--no-deps", "--no-index", "-q", str(wheel)], capture_output=True, text=True,
                             timeout=600, env=env)
    if install.returncode != 0 and "no such option: --python" in install.stderr:  # pip < 22.3
        install = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                                  str(wheel)], capture_output=True, text=True, timeout=600, env=env)
    assert install.returncode == 0, install.stderr
    return wheel, bin_dir, env


@pytest.mark.slow
def test_wheel_carries_the_shipped_rules_templates_model_and_demo(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    assert "foundation/default_rules.yaml" in names
    assert any(n.startswith("responders/templates/en/") for n in names)
    assert any(n.startswith("inbox/data/demo/mailbox/") for n in names)
    assert any(n.startswith("classifiers/") and "model" in n for n in names)


@pytest.mark.slow
def test_installed_wheel_works_from_an_unrelated_folder(installed, tmp_path):
    _, bin_dir, env = installed
    where = subprocess.run([str(bin_dir / "python"), "-c", "import inbox; print(inbox.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(bin_dir.parent)), where.stdout + where.stderr  # the wheel, not the checkout
    liaison = str(bin_dir / "liaison")
    mail = tmp_path / "m.eml"
    mail.write_bytes(b"From: Tom <tom@brewco.com>\r\nSubject: duplicate invoice\r\nMessage-ID: <a@b>\r\n\r\n"
                     b"We were invoiced twice for INV-2231, please cancel one.\r\n")
    classified = subprocess.run([liaison, "classify", str(mail)], cwd=tmp_path, env=env, capture_output=True,
                                text=True, timeout=300)
    assert classified.returncode == 0, classified.stderr
    assert "billing_issue" in classified.stdout and "using the shipped rules" in classified.stderr
    assert subprocess.run([liaison, "init", "conf"], cwd=tmp_path, env=env, capture_output=True,
                          timeout=120).returncode == 0
    checked = subprocess.run([liaison, "rules", "check"], cwd=tmp_path / "conf", env=env, capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0 and "OK" in checked.stdout, checked.stderr
    demo = subprocess.run([liaison, "demo", "--out", str(tmp_path / "demo")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr
    assert (tmp_path / "demo" / "summary.html").exists()
