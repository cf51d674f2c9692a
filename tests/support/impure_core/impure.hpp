// Fixture for the core_is_pure_detects test: this file must be rejected by
// tests/check_core_pure.cmake (it is never compiled).
#pragma once

#include <random>  // allowed
#include <thread>  // forbidden

inline unsigned seed_from_hardware() { return std::random_device{}(); }
