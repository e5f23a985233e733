# fish completion for gostly (the front command)
set -l cmds record transition serve seed export drift score
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a record -d 'a LEARN proxy in the foreground'
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a transition -d 'build the mock library from JSONL'
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a serve -d 'the proxy daemon'
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a seed -d 'HAR, Postman and OpenAPI importers'
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a export -d 'HAR, Postman and OpenAPI out of recordings'
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a drift -d 'drift events between sessions'
complete -c gostly -f -n "not __fish_seen_subcommand_from $cmds" -a score -d 'freshness score per service'
complete -c gostly -n "not __fish_seen_subcommand_from $cmds" -l help -d 'show help'
complete -c gostly -n "not __fish_seen_subcommand_from $cmds" -l version -d 'show version'
