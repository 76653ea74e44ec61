#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The project's documents and comments stand alone: none cites the product
# specification the project started from, which is not part of the tree.
# Usage: docs_standalone.sh SOURCE_DIR
set -eu
src=$1
word="SP""EC"      # written in parts so that this file does not match itself
phrase="the sp""ec"
if grep -rnw --exclude-dir='build*' --exclude-dir=.git --exclude-dir=corpus \
        -e "$word" -e "$word.md" -e "$phrase" "$src"; then
  echo "docs_standalone: the lines above cite a document outside the tree"
  exit 1
fi
echo "docs_standalone: no citation of a document outside the tree"
