# core_is_pure: fails when the Raft core (actors/core) reaches for I/O,
# threads, clocks, CAF or Boost (docs/architecture.md §1 and §3).
#
#   cmake -DCORE_DIR=<path to actors/core> -P tests/check_core_pure.cmake
#
# Checked in every *.hpp, *.cpp, *.h, *.cc and *.ipp below CORE_DIR:
#   - #include of caf/..., boost/..., <thread>, <mutex>, <shared_mutex>,
#     <condition_variable>, <future>, <atomic>, <chrono>, <ctime>,
#     <filesystem>, <fstream>, <iostream>, and the POSIX headers
#     <unistd.h>, <fcntl.h>, <pthread.h>, <sys/...>;
#   - outside // comments: std::random_device, std::chrono, std::this_thread,
#     std::thread, std::time(, rand( and srand(.
# <random> itself is allowed: the core draws timeouts from a seeded
# std::mt19937_64.
if(NOT CORE_DIR)
  message(FATAL_ERROR "usage: cmake -DCORE_DIR=<dir> -P check_core_pure.cmake")
endif()
if(NOT IS_DIRECTORY "${CORE_DIR}")
  message(FATAL_ERROR "core_is_pure: ${CORE_DIR} is not a directory")
endif()

set(forbidden_includes
  "caf/" "boost/"
  "thread>" "mutex>" "shared_mutex>" "condition_variable>" "future>"
  "atomic>" "chrono>" "ctime>" "filesystem>" "fstream>" "iostream>"
  "unistd.h" "fcntl.h" "pthread.h" "sys/")
set(forbidden_tokens
  "std::random_device" "std::chrono" "std::this_thread" "std::thread"
  "std::time(" "srand(")

file(GLOB_RECURSE sources LIST_DIRECTORIES false
  "${CORE_DIR}/*.hpp" "${CORE_DIR}/*.cpp" "${CORE_DIR}/*.h"
  "${CORE_DIR}/*.cc" "${CORE_DIR}/*.ipp")
if(NOT sources)
  message(FATAL_ERROR "core_is_pure: no sources found below ${CORE_DIR}")
endif()

set(violations "")
foreach(src IN LISTS sources)
  # Split into lines by hand: ';', '[' and ']' would confuse CMake lists.
  file(READ "${src}" content)
  string(REPLACE ";" "<semicolon>" content "${content}")
  string(REPLACE "[" "<lbracket>" content "${content}")
  string(REPLACE "]" "<rbracket>" content "${content}")
  string(REPLACE "\n" ";" lines "${content}")
  set(lineno 0)
  foreach(line IN LISTS lines)
    math(EXPR lineno "${lineno} + 1")
    # Drop a trailing // comment so prose may name what the core avoids.
    string(REGEX REPLACE "//.*$" "" code "${line}")
    if(code MATCHES "^[ \t]*#[ \t]*include[ \t]*[<\"]([^>\"]*)[>\"]")
      set(header "${CMAKE_MATCH_1}")
      foreach(bad IN LISTS forbidden_includes)
        # "thread>" matches <thread> exactly; "caf/" any header below caf/.
        if(bad MATCHES ">$")
          string(REGEX REPLACE ">$" "" bad_name "${bad}")
          set(hit FALSE)
          if(header STREQUAL bad_name)
            set(hit TRUE)
          endif()
        else()
          string(FIND "${header}" "${bad}" pos)
          set(hit FALSE)
          if(pos EQUAL 0)
            set(hit TRUE)
          endif()
        endif()
        if(hit)
          list(APPEND violations "${src}:${lineno}: includes <${header}>")
        endif()
      endforeach()
    endif()
    foreach(tok IN LISTS forbidden_tokens)
      string(FIND "${code}" "${tok}" pos)
      if(NOT pos EQUAL -1)
        list(APPEND violations "${src}:${lineno}: uses ${tok}")
      endif()
    endforeach()
    # rand( as a word of its own (not mt19937's operator or srand).
    if(code MATCHES "(^|[^A-Za-z0-9_:.>])(std::)?rand[ \t]*\\(")
      list(APPEND violations "${src}:${lineno}: uses rand()")
    endif()
  endforeach()
endforeach()

list(LENGTH sources n_sources)
if(violations)
  list(JOIN violations "\n  " text)
  message(FATAL_ERROR "core_is_pure: the core must stay free of CAF, Boost, "
    "threads, clocks and files (docs/architecture.md §3); found:\n  ${text}")
endif()
message(STATUS "core_is_pure: ${n_sources} files in ${CORE_DIR} are pure")
