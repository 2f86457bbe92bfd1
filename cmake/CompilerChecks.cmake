# One interface target carries every warning and hardening flag; every
# target of the project links it (STYLE.md #13).
include(CheckCCompilerFlag)

add_library(rb_compile_options INTERFACE)

set(_rb_warnings
    -Wall -Wextra -Wshadow -Wformat=2 -Wformat-security -Wconversion
    -Wno-sign-conversion -Wstrict-prototypes -Wmissing-prototypes
    -Wold-style-definition -Wpointer-arith -Wcast-align -Wwrite-strings
    -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough
    -Werror=implicit-function-declaration -Werror=format-security)
foreach(_flag IN LISTS _rb_warnings)
  string(MAKE_C_IDENTIFIER "HAVE_C${_flag}" _var)
  check_c_compiler_flag(${_flag} ${_var})
  if(${_var})
    target_compile_options(rb_compile_options INTERFACE ${_flag})
  endif()
endforeach()

target_compile_options(rb_compile_options INTERFACE
  -fstack-protector-strong -fstack-clash-protection -fno-strict-overflow
  -fno-delete-null-pointer-checks -fcf-protection)
# _FORTIFY_SOURCE needs an optimised build; sanitizer builds skip it.
if(NOT RB_SANITIZE)
  target_compile_definitions(rb_compile_options INTERFACE
    $<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=3>)
endif()
target_link_options(rb_compile_options INTERFACE
  -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed)

if(RB_WERROR)
  target_compile_options(rb_compile_options INTERFACE -Werror)
endif()

if(RB_SANITIZE)
  target_compile_options(rb_compile_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer)
  target_link_options(rb_compile_options INTERFACE -fsanitize=address,undefined)
endif()
