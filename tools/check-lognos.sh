#!/bin/sh
# Fail when one SDLOGNO tag is used at two call sites.
set -eu
dups=$(grep -rhoE 'SDLOGNO\([0-9]+\)' lib mod_sdesk tests/*.c 2>/dev/null | sort | uniq -d)
if [ -n "$dups" ]; then
    echo "check-lognos: tags used more than once:" $dups >&2
    exit 1
fi
echo "check-lognos: $(grep -rhoE 'SDLOGNO\([0-9]+\)' lib mod_sdesk | wc -l) tags, all unique"
