{
  "targets": [{
    "target_name": "interproc",
    "sources": [
      "<!@(node -p \"['core','binding'].flatMap(d=>require('fs').readdirSync('native/'+d,{recursive:true}).filter(f=>/\\.(cc|cpp)$/.test(f)).sort().map(f=>'native/'+d+'/'+f)).join(' ')\")"
    ],
    "include_dirs": ["native"],
    "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"],
    "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers", "-Wno-restrict"],
    "defines": ["NAPI_VERSION=8", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
    "ldflags": [
      "-static-libstdc++",
      "-Wl,--wrap=pthread_create,--wrap=pthread_join,--wrap=pthread_detach,--wrap=pthread_once",
      "-Wl,--wrap=pthread_key_create,--wrap=__pthread_key_create,--wrap=pthread_key_delete",
      "-Wl,--wrap=pthread_getspecific,--wrap=pthread_setspecific,--wrap=arc4random"
    ],
    "libraries": ["-Wl,--push-state,--no-as-needed", "-l:libpthread.so.0", "-Wl,--pop-state"]
  }]
}
