#include "bindings.h"

#include <fcnlab/util/autocast.h>
#include <fcnlab/util/memory.h>
#include <fcnlab/util/winograd.h>

#include <c10/util/Exception.h>

namespace py = pybind11;

PYBIND11_MODULE(_C, m) {
  m.doc() = "fcnlab: FCN-Alexnet semantic segmentation with LibTorch";
  // The library's checks arrive as ValueError / IndexError / RuntimeError
  // with the library's message (without the C++ backtrace).
  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) {
        std::rethrow_exception(error);
      }
    } catch (const c10::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what_without_backtrace());
    } catch (const c10::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what_without_backtrace());
    } catch (const c10::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what_without_backtrace());
    }
  });
  fcnlab::bindings::bind_models(m);
  fcnlab::bindings::bind_caffe(m);
  fcnlab::bindings::bind_data(m);
  fcnlab::bindings::bind_train(m);
  fcnlab::bindings::bind_infer(m);
#ifdef FCNLAB_HAS_SERVE
  fcnlab::bindings::bind_serve(m);
#endif
  m.def(
      "reuse_freed_memory",
      &fcnlab::reuse_freed_memory,
      "Keeps freed large blocks in the process for the next tensors instead "
      "of unmapping them (glibc): about twice the speed of FCN-8s inference "
      "and FCN-Alexnet training where page faults are slow; resident memory "
      "stays near its peak. The fcnlab CLI does it at start. False where the "
      "C library offers no such setting.");
  m.def(
      "winograd_convolutions",
      &fcnlab::winograd_convolutions,
      "Whether float32 inference on the CPU runs 3x3 stride-1 convolutions "
      "by oneDNN's Winograd F(4x4, 3x3) (on by default where the build has "
      "oneDNN; results differ from the direct algorithm's by rounding).");
  m.def(
      "set_winograd_convolutions",
      &fcnlab::set_winograd_convolutions,
      py::arg("enabled"),
      "Turns Winograd convolutions in float32 inference on or off; returns "
      "whether they are now on (always False without oneDNN).");
  m.def(
      "cpu_has_native_bf16",
      &fcnlab::cpu_has_native_bf16,
      "Whether this CPU has bfloat16 dot products (AVX512-BF16 or AMX-BF16); "
      "elsewhere amp='bf16' is emulated and slower than fp32, and amp='auto' "
      "picks fp32.");
}
