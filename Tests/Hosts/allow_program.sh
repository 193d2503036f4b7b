# Sourced by the host tests. pauseguard_allow_program <command line> puts a DSP program on the
# allow-list of the user whose HOME this is (as the editor's "Always allow" would): its argv, and
# each file it names (an absolute path) resolved, with its SHA-256. Words are split on spaces.
pauseguard_allow_program() {
    local dir=${XDG_CONFIG_HOME:-$HOME/.config}/PauseGuard argv=() files=() word real
    mkdir -p "$dir"
    for word in $1; do
        if [[ $word == /* && -f $word ]]; then
            real=$(realpath "$word")
            argv+=("\"$real\"")
            files+=("{\"path\":\"$real\",\"sha256\":\"$(sha256sum "$real" | cut -d' ' -f1)\"}")
        else
            argv+=("\"$word\"")
        fi
    done
    (IFS=,; printf '{"argv":[%s],"files":[%s]}\n' "${argv[*]}" "${files[*]}") >>"$dir/allowed-programs.json"
}
