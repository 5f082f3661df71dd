"""Exit 0 when llama-cpp-python can decode a multi-token prompt on this CPU (used by setup).

Run in a child process because a mis-built llama.cpp dies with SIGSEGV, not an exception.
Uses the small default GGUF when it is installed; before the models exist, it only imports.
"""

import sys
from pathlib import Path

model = Path(__file__).resolve().parent.parent / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
from llama_cpp import Llama  # noqa: E402

if model.is_file():
    llm = Llama(model_path=str(model), n_ctx=256, n_threads=2, verbose=False)
    out = llm.create_completion("The capital of France is a city called", max_tokens=4)
    print(out["choices"][0]["text"])
sys.exit(0)
