#include "bindings.h"

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
}
