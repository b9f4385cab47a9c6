"""llama-cpp-python as a LangChain chat model, for the optional in-process `llamacpp` engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from bot.models import EngineError

_ROLES = {"human": "user", "ai": "assistant", "system": "system"}


class LlamaCppChat(BaseChatModel):
    """Chat completions from a local GGUF model through llama-cpp-python."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    llama: Any
    max_tokens: int = 512

    @classmethod
    def load(cls, path: str, max_tokens: int = 512, n_ctx: int = 4096) -> LlamaCppChat:
        """Load a GGUF file; a clear EngineError if the extra or the file is missing."""
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise EngineError("engine 'llamacpp' needs the local extra: pip install '.[local]'") from exc
        if not path or not Path(path).is_file():
            raise EngineError(f"CITEBOT_LLAMACPP_MODEL_PATH={path!r} is not a GGUF file")
        return cls(llama=Llama(model_path=path, n_ctx=n_ctx, verbose=False), max_tokens=max_tokens)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    def _messages(self, messages: list[BaseMessage]) -> list[dict[str, str]]:
        return [{"role": _ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages]

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        out = self.llama.create_chat_completion(
            messages=self._messages(messages), max_tokens=self.max_tokens, temperature=0, stop=stop
        )
        text = out["choices"][0]["message"].get("content") or ""
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for part in self.llama.create_chat_completion(
            messages=self._messages(messages), max_tokens=self.max_tokens, temperature=0, stop=stop, stream=True
        ):
            delta = part["choices"][0].get("delta", {}).get("content")
            if delta:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk
