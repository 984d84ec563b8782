# For builds before the top-level CMakeLists.txt adds web/: pass
# -DCMAKE_PROJECT_INCLUDE=<repo>/cmake/web_local.cmake and web/CMakeLists.txt
# is included once the top-level file has been read (the dts target exists).
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL include ${CMAKE_SOURCE_DIR}/web/CMakeLists.txt)
