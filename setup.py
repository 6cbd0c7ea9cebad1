"""Packaging glue that pyproject.toml cannot express: the repository's ``resources/`` folder
(icons, stylesheets, translations, data files) goes into the wheel as package data
``twin/resources/``, found at run time by :func:`twin.assets.resources_dir` through
``importlib.resources``. The folder stays at the top of the repository (the PyInstaller spec,
``make_icons.py`` and the docs refer to it there); everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    """Copy ``resources/`` as data only: no Python module of it (make_icons.py is a dev tool)."""

    def find_package_modules(self, package, package_dir):  # type: ignore[no-untyped-def]
        if package == "twin.resources":
            return []
        return super().find_package_modules(package, package_dir)


setup(
    packages=find_packages(include=["twin", "twin.*"]) + ["twin.resources"],
    package_dir={"twin.resources": "resources"},
    package_data={"twin.resources": ["**/*"]},
    exclude_package_data={"twin.resources": ["*.py", "**/__pycache__/*", "**/*.pyc"]},
    cmdclass={"build_py": BuildPy},
)
