#
# Copyright (c) 2026 The Boost.Duplex developers
#
# Distributed under the Boost Software License, Version 1.0. (See accompanying
# file LICENSE_1_0.txt or copy at http://www.boost.org/LICENSE_1_0.txt)
#

# Run as: cmake -D KIND=subdir|install -D SOURCE_DIR=<repo> -D WORK_DIR=<dir>
#               [-D GENERATOR=...] [-D CXX_COMPILER=...] [-D BUILD_TYPE=...]
#               [-D WERROR=ON|OFF] [-D FIBER=ON|OFF] -P cmake_consumer_test.cmake
#
# subdir:  configures test/cmake_subdir_test (which add_subdirectory()s the
#          repository), builds it and runs its programs.
# install: builds and installs the library into WORK_DIR/prefix, then
#          configures test/cmake_install_test against that prefix
#          (find_package(boost_duplex CONFIG)), builds it and runs its program.

foreach(_var KIND SOURCE_DIR WORK_DIR)
    if(NOT DEFINED ${_var})
        message(FATAL_ERROR "${_var} is not set")
    endif()
endforeach()

set(_common_args)
if(GENERATOR)
    list(APPEND _common_args -G ${GENERATOR})
endif()
if(CXX_COMPILER)
    list(APPEND _common_args -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
if(BUILD_TYPE)
    list(APPEND _common_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()
set(_config_args)
if(BUILD_TYPE)
    set(_config_args --config ${BUILD_TYPE})
endif()

function(run_step what)
    message(STATUS "cmake_${KIND}_test: ${what}: ${ARGN}")
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
        message(FATAL_ERROR "cmake_${KIND}_test: ${what} failed (${_rc})")
    endif()
endfunction()

# Finds an executable produced by a build (single- or multi-config generators).
function(find_program_in dir name out)
    file(GLOB_RECURSE _found "${dir}/${name}" "${dir}/${name}.exe")
    if(NOT _found)
        message(FATAL_ERROR "cmake_${KIND}_test: ${name} was not built in ${dir}")
    endif()
    list(GET _found 0 _first)
    set(${out} ${_first} PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

if(KIND STREQUAL "subdir")
    run_step("configure" ${CMAKE_COMMAND} ${_common_args}
        -S ${SOURCE_DIR}/test/cmake_subdir_test -B ${WORK_DIR}/build
        -DBOOST_DUPLEX_ROOT=${SOURCE_DIR}
        -DBOOST_DUPLEX_WERROR=${WERROR}
        -DBOOST_DUPLEX_FIBER=${FIBER})
    run_step("build" ${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel 2 ${_config_args})
    find_program_in(${WORK_DIR}/build main _main)
    find_program_in(${WORK_DIR}/build main_header_only _main_header_only)
    run_step("run main" ${_main})
    run_step("run main_header_only" ${_main_header_only})
elseif(KIND STREQUAL "install")
    run_step("configure library" ${CMAKE_COMMAND} ${_common_args}
        -S ${SOURCE_DIR} -B ${WORK_DIR}/library
        -DBOOST_DUPLEX_BUILD_TESTS=OFF
        -DBOOST_DUPLEX_BUILD_EXAMPLES=OFF
        -DBOOST_DUPLEX_WERROR=${WERROR}
        -DBOOST_DUPLEX_FIBER=${FIBER})
    run_step("build library" ${CMAKE_COMMAND} --build ${WORK_DIR}/library --parallel 2 ${_config_args})
    run_step("install library" ${CMAKE_COMMAND} --install ${WORK_DIR}/library
        --prefix ${WORK_DIR}/prefix ${_config_args})
    run_step("configure consumer" ${CMAKE_COMMAND} ${_common_args}
        -S ${SOURCE_DIR}/test/cmake_install_test -B ${WORK_DIR}/build
        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
    run_step("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/build --parallel 2 ${_config_args})
    find_program_in(${WORK_DIR}/build main _main)
    run_step("run main" ${_main})
else()
    message(FATAL_ERROR "unknown KIND '${KIND}'")
endif()

message(STATUS "cmake_${KIND}_test: passed")
