"""Change semantics: content hashes, change decisions, Chinese diffs, copies (SimHash, mirrors), relevance."""
