# Unit tests of coordinator/: the state machine through fakes, the catalog,
# the configuration and the domain XML reader.
add_library(snap_fake_coord STATIC ${PROJECT_SOURCE_DIR}/tests/fakes/fake_coord.c)
target_include_directories(snap_fake_coord PUBLIC ${PROJECT_SOURCE_DIR}/tests)
target_link_libraries(snap_fake_coord PUBLIC snap_coord PRIVATE snap_build_flags)

snap_add_test(test_coord_job snap_fake_coord snap_coord)
snap_add_test(test_coord_catalog snap_catalog)
snap_add_test(test_coord_jobrec snap_catalog)
snap_add_test(test_coord_events snap_catalog)
snap_add_test(test_coord_chain snap_coord)
snap_add_test(test_coord_conf snap_conf)
snap_add_test(test_coord_domxml snap_domxml)

# The command line's documentation: snapset(8) and the bash completion name
# every command, subcommand and option the built snapset has (a script:
# --help and coordinator/cli/*.c are read, nothing is run but --help).
add_test(NAME test_manpage
         COMMAND bash ${PROJECT_SOURCE_DIR}/tests/unit/test_manpage.sh
                 $<TARGET_FILE:snapset> ${PROJECT_SOURCE_DIR})
set_tests_properties(test_manpage PROPERTIES LABELS unit TIMEOUT 60)
