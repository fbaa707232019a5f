# fish completion for aegis(1): candidates come from 'aegis __complete'.
function __aegis_complete
        set -l toks (commandline -opc) (commandline -ct)
        set -l out (command $toks[1] __complete $toks[2..-1] 2>/dev/null)
        if test "$out" = :files
                __fish_complete_path (commandline -ct)
        else
                printf '%s\n' $out
        end
end
complete -c aegis -f -a '(__aegis_complete)'
