// The body of every C entry point: the thread's error cleared first, and no
// C++ exception crossing the C boundary (each becomes a status and a message).
#pragma once

#include <exception>
#include <new>

#include "core/error.h"
#include "core/tensor_check.h"

namespace lla {

template <class Body>
lla_status guarded(Body&& body) {
    clear_error();
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return set_error(LLA_ERROR_OUT_OF_MEMORY, "host memory allocation failed");
    } catch (const std::exception& e) {
        return set_error(LLA_ERROR_INTERNAL, concat("unexpected exception: ", e.what()));
    } catch (...) {
        return set_error(LLA_ERROR_INTERNAL, "unexpected non-standard exception");
    }
}

}  // namespace lla
