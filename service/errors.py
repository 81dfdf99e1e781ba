"""Domain errors, each with a stable code; the API and CLI map them to responses once."""

from __future__ import annotations


class QAError(Exception):
    code = "error"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidQuestion(QAError):
    code = "invalid_question"
    status = 422


class ModeUnavailable(QAError):
    code = "mode_unavailable"
    status = 503


class ConversationNotFound(QAError):
    code = "conversation_not_found"
    status = 404


class IndexNotReady(QAError):
    code = "index_unavailable"
    status = 503


class Busy(QAError):
    code = "busy"
    status = 503


class DocumentNotFound(QAError):
    code = "document_not_found"
    status = 404


class PayloadTooLarge(QAError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(QAError):
    code = "unsupported_file_type"
    status = 415


class InvalidFileName(QAError):
    code = "invalid_file_name"
    status = 422


class NotReady(QAError):
    code = "not_ready"
    status = 503


class StorageFull(QAError):
    code = "storage_full"
    status = 507


def is_disk_full(exc: BaseException) -> bool:
    """Whether an error from the file system, SQLite or Chroma means the disk (or a quota) is full."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "disk is full" in text or "no space left" in text or "quota exceeded" in text
