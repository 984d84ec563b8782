/* build_info: what this binary was built from (generated at every build by cmake/build_info.cmake). */
#ifndef DTS_BUILD_INFO_H
#define DTS_BUILD_INFO_H

extern const char dts_build_version[]; /* "0.1.0" */
extern const char dts_build_commit[];  /* a short git commit, or "unknown" outside git */
extern const int dts_build_dirty;      /* 1 if the tree had uncommitted changes */

#endif
