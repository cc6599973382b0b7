// Ties a C++ heap object to a Postgres memory context: the object is deleted when the context is
// reset or deleted (normal end or ERROR abort). Lets glue code keep a C++ object (threads,
// std::vector members) alive across Postgres calls that may ereport without leaking it, and
// without a C++ destructor being skipped by siglongjmp. The object's destructor must not call
// Postgres (it may run during abort).
#pragma once

#include "pg/guard.hpp"

#include <new>
#include <utility>

namespace piramid::pg {

template <typename T>
struct OwnedBox {
    MemoryContextCallback cb;  // first member: registered with the context
    T* object;
};

template <typename T>
void delete_owned(void* arg) {
    auto* box = static_cast<OwnedBox<T>*>(arg);
    delete box->object;
    box->object = nullptr;
}

// Creates a T owned by `cxt`. Returns the box: box->object may be deleted early with release().
template <typename T, typename... Args>
OwnedBox<T>* make_owned(MemoryContext cxt, Args&&... args) {
    auto* box = static_cast<OwnedBox<T>*>(
        call_pg([&] { return MemoryContextAllocZero(cxt, sizeof(OwnedBox<T>)); }));
    box->object = new T(std::forward<Args>(args)...);
    box->cb.func = delete_owned<T>;
    box->cb.arg = box;
    MemoryContextRegisterResetCallback(cxt, &box->cb);
    return box;
}

// Deletes the object now (the context callback then finds nothing to do).
template <typename T>
void release(OwnedBox<T>* box) {
    if (box != nullptr) {
        delete box->object;
        box->object = nullptr;
    }
}

}  // namespace piramid::pg
