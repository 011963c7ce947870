"""Builds the Python package fcnlab: setup.py only drives CMake, which builds
the extension fcnlab._C (and the library and CLI it ships with) against the
interpreter's own torch."""
import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        import torch

        package_dir = os.path.dirname(os.path.abspath(self.get_ext_fullpath(ext.name)))
        build_dir = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        os.makedirs(build_dir, exist_ok=True)
        subprocess.check_call([
            "cmake", "-S", ROOT, "-B", build_dir,
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DCMAKE_PREFIX_PATH={torch.utils.cmake_prefix_path}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DFCNLAB_BUILD_PYTHON=ON",
            "-DFCNLAB_BUILD_TESTS=OFF",
            "-DFCNLAB_BUILD_BENCH=OFF",
            "-DFCNLAB_SHARED=OFF",
            f"-DFCNLAB_PYTHON_PACKAGE_DIR={package_dir}",
        ])
        subprocess.check_call([
            "cmake", "--build", build_dir, "--target", "_C", "fcnlab_cli",
            "-j", os.environ.get("FCNLAB_JOBS", "2"),
        ])


    def copy_extensions_to_source(self):
        # Editable installs copy only the extension into the source tree;
        # the command line tool built beside it goes along.
        super().copy_extensions_to_source()
        build_py = self.get_finalized_command("build_py")
        built = os.path.join(self.build_lib, "fcnlab", "fcnlab")
        if os.path.exists(built):
            target = os.path.join(build_py.get_package_dir("fcnlab"), "fcnlab")
            self.copy_file(built, target)


setup(
    name="fcnlab",
    version="0.1.0",
    description="FCN-Alexnet semantic segmentation with LibTorch (DIGITS workflow without Caffe)",
    package_dir={"": "python"},
    packages=["fcnlab"],
    ext_modules=[CMakeExtension("fcnlab._C")],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
