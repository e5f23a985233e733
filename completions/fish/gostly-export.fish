# fish completion for gostly-export
set --local cmds har postman openapi
complete -c gostly-export -f -n "not __fish_seen_subcommand_from $cmds" -a har -d 'HAR 1.2, streamed'
complete -c gostly-export -f -n "not __fish_seen_subcommand_from $cmds" -a postman -d 'Postman collection v2.1'
complete -c gostly-export -f -n "not __fish_seen_subcommand_from $cmds" -a openapi -d 'OpenAPI 3.1 inferred from the traffic'
complete -c gostly-export -l help -d 'show help'
complete -c gostly-export -n "not __fish_seen_subcommand_from $cmds" -l version -d 'show version'
complete -c gostly-export -s v -l verbose -d 'more log output'
complete -c gostly-export -s q -l quiet -d 'only errors'
complete -c gostly-export -x -l color -a 'auto always never' -d 'colour on stderr'
complete -c gostly-export -r -s o -l output -d 'write to a file, atomically'
complete -c gostly-export -x -l data -a '(__fish_complete_directories)' -d 'data directory'
complete -c gostly-export -x -l service -d 'service to export'
complete -c gostly-export -x -l session -d 'keep only this recording session'
complete -c gostly-export -x -n "__fish_seen_subcommand_from postman" -l name -d 'collection name'
complete -c gostly-export -n "__fish_seen_subcommand_from openapi" -l json -d 'JSON instead of YAML'
complete -c gostly-export -n "__fish_seen_subcommand_from openapi" -x -l title -d 'info.title'
complete -c gostly-export -n "__fish_seen_subcommand_from openapi" -x -l api-version -d 'info.version'
complete -c gostly-export -n "__fish_seen_subcommand_from $cmds" -F
