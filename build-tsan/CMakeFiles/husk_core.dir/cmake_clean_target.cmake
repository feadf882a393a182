file(REMOVE_RECURSE
  "libhusk_core.a"
)
