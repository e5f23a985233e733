# fish completion for gostly-score
complete -c gostly-score -f
complete -c gostly-score -x -l data -a '(__fish_complete_directories)' -d 'data directory'
complete -c gostly-score -x -l store -d 'library store: postgres://USER@HOST/DB, libpq key=value or sqlite:PATH'
complete -c gostly-score -x -l service -d 'only this service'
complete -c gostly-score -l json -d 'one JSON record per service'
complete -c gostly-score -l help -d 'show help'
complete -c gostly-score -l version -d 'show version'
complete -c gostly-score -s v -l verbose -d 'more log output'
complete -c gostly-score -s q -l quiet -d 'only errors'
complete -c gostly-score -x -l color -a 'auto always never' -d 'colour on stderr'
