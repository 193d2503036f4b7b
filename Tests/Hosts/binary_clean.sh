#!/usr/bin/env bash
# The plugin binaries export only their entry points (no pg:: or Lua symbol a host could
# interpose), and every LV2 parameter range in the generated TTL is a float literal.
# Usage: binary_clean.sh <PauseGuard.vst3 bundle> <PauseGuard.lv2 bundle>
set -euo pipefail
vst3=${1:?usage: binary_clean.sh <vst3 bundle> <lv2 bundle>}
lv2=${2:?usage: binary_clean.sh <vst3 bundle> <lv2 bundle>}
fail=0
for so in "$vst3"/Contents/x86_64-linux/*.so "$lv2"/*.so; do
    exported=$(nm -D --defined-only "$so" | awk '{print $3}' | c++filt)
    bad=$(grep -E '^(pg::|pauseguard::|lua|luaL_|juce::)' <<<"$exported" || true)
    echo "$so: $(wc -l <<<"$exported") exported symbols"
    if [[ -n $bad ]]; then
        echo "FAIL: $so exports $(wc -l <<<"$bad") internal symbols, e.g.:"; head -5 <<<"$bad"; fail=1
    fi
done
# Every lv2:minimum / maximum / default literal must be a float (a dot or an exponent).
ints=$(grep -E 'lv2:(minimum|maximum|default)[[:space:]]+-?[0-9]+[[:space:]]*[;.,]' "$lv2/dsp.ttl" | grep -vE '[0-9]\.[0-9]|[eE]' || true)
echo "$lv2/dsp.ttl: $(grep -cE 'lv2:(minimum|maximum|default)' "$lv2/dsp.ttl") range values"
ints+=$(grep -E 'lv2:(minimum|maximum|default)[[:space:]]+-?[0-9]+\.[0-9]+\.' "$lv2/dsp.ttl" || true) # a mangled literal
if [[ -n $ints ]]; then
    echo "FAIL: integer range values in dsp.ttl:"; head -5 <<<"$ints"; fail=1
fi
[[ $fail == 0 ]] && echo "binary clean: PASS"
exit $fail
