# libFuzzer targets of the hardening work (docs/hardening.md): the task-spec
# parser, HTTP routing and path parsing, and the parsing of Redis replies (the
# store's real sources over a fake connection fed by hiredis's redisReader).
# Built by clang directly, like fuzz_cron; each runs ~10 s under ctest from its
# committed corpus (corpus/NAME), new finds going to the build folder.
set(MORE_FUZZ_CC /usr/bin/clang)
if(NOT EXISTS ${MORE_FUZZ_CC})
  message(STATUS "fuzz: ${MORE_FUZZ_CC} not found, more fuzz targets not built")
  return()
endif()

set(S ${CMAKE_SOURCE_DIR}/src)
set(MORE_FUZZ_TIME ${S}/cron.c ${S}/cron_parse.c ${S}/tz.c ${S}/tz_rule.c ${S}/tz_format.c
    ${S}/lib/civil.c ${S}/lib/clock.c ${S}/lib/mem.c)
set(MORE_FUZZ_TASK ${S}/task.c ${S}/task_policy.c ${S}/action_kind.c ${S}/action_shell.c ${S}/action_http.c
    ${S}/task_shift.c ${S}/shift.c ${S}/task_exclude.c ${S}/exclude.c ${S}/lib/whsig.c ${S}/task_exec.c
    ${MORE_FUZZ_TIME})
set(MORE_FUZZ_STORE ${S}/store.c ${S}/store_exec.c ${S}/store_sched.c ${S}/store_task.c
    ${S}/store_sort.c ${S}/store_dead.c ${S}/store_events.c ${S}/store_cluster.c ${S}/store_sweep.c
    ${S}/api_view.c ${S}/lib/record.c ${S}/lib/buf.c ${S}/lib/num.c ${S}/store_create.c ${S}/store_names.c ${S}/occurrence.c
    ${S}/run_record.c ${S}/store_slo.c ${S}/store_chain.c ${S}/store_conc.c
    ${S}/lib/log.c ${S}/lib/metrics.c ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_rconn.c ${MORE_FUZZ_TASK})

# more_fuzz(NAME SOURCES... LIBS ...) builds fuzz_NAME and registers fuzz.fuzz_NAME.
function(more_fuzz name)
  cmake_parse_arguments(F "" "" "SOURCES;LIBS" ${ARGN})
  set(bin ${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name})
  set(srcs ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_${name}.c ${F_SOURCES})
  add_custom_command(
    OUTPUT ${bin}
    COMMAND ${MORE_FUZZ_CC} -g -O1 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter
            -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
            -I${S} -I${S}/lib ${srcs} ${F_LIBS} -lpthread -o ${bin}
    DEPENDS ${srcs}
    IMPLICIT_DEPENDS C ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_${name}.c
    COMMENT "Building fuzz_${name} with clang")
  add_custom_target(fuzz_${name} ALL DEPENDS ${bin})
  set(found ${CMAKE_CURRENT_BINARY_DIR}/corpus_${name})
  add_test(NAME fuzz.fuzz_${name}_corpus COMMAND ${CMAKE_COMMAND} -E make_directory ${found})
  set_tests_properties(fuzz.fuzz_${name}_corpus PROPERTIES FIXTURES_SETUP fuzz_${name}_corpus)
  add_test(NAME fuzz.fuzz_${name}
           COMMAND ${CMAKE_COMMAND} -E env ASAN_OPTIONS=detect_leaks=1
                   ${bin} -max_total_time=10 -timeout=2 -rss_limit_mb=1024
                   -artifact_prefix=${CMAKE_CURRENT_BINARY_DIR}/fuzz_${name}-
                   ${found} ${CMAKE_CURRENT_SOURCE_DIR}/corpus/${name})
  set_tests_properties(fuzz.fuzz_${name} PROPERTIES TIMEOUT 120 FIXTURES_REQUIRED fuzz_${name}_corpus)
endfunction()

more_fuzz(task_spec SOURCES ${MORE_FUZZ_TASK} LIBS -ljansson -lcrypto)
more_fuzz(router SOURCES ${S}/lib/router.c)
more_fuzz(replies SOURCES ${MORE_FUZZ_STORE} LIBS -ljansson -lhiredis -lcrypto)
# The regress-* inputs of the replies corpus once crashed the store (docs/hardening.md, F7).
