# SPDX-License-Identifier: MPL-2.0
"""A minimal ctypes binding of libocikms (include/ocikms.h), used by the tests and shown in the
usage notes. Every failed call raises OcikmsError with the status code, message, OCI code, HTTP
status and opc-request-id."""

import ctypes

OK = 0

# void (*ocikms_log_callback)(int32_t level, const char *message, void *user)
LOG_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)


class Buffer(ctypes.Structure):
    """ocikms_buffer."""

    _fields_ = [("data", ctypes.POINTER(ctypes.c_uint8)), ("len", ctypes.c_size_t)]


class CallOpts(ctypes.Structure):
    """ocikms_call_opts. struct_size first, so the struct can grow: the library reads only the
    fields struct_size covers (set it to ctypes.sizeof(CallOpts)). Boolean fields are uint8_t
    holding 0 or 1; the library refuses any other value."""

    _fields_ = [
        ("struct_size", ctypes.c_size_t),
        ("aad", ctypes.POINTER(ctypes.c_uint8)),
        ("aad_len", ctypes.c_size_t),
        ("without_envelope", ctypes.c_uint8),
        ("timeout_ms", ctypes.c_uint64),
        ("cancel", ctypes.c_void_p),
    ]


class OcikmsError(Exception):
    """A failed library call."""

    def __init__(self, code, name, message, oci_code="", http_status=0, opc_request_id=""):
        super().__init__(f"{name} ({code}): {message}")
        self.code = code
        self.name = name
        self.message = message
        self.oci_code = oci_code
        self.http_status = http_status
        self.opc_request_id = opc_request_id


class Library:
    """The loaded library with its function signatures declared."""

    def __init__(self, path):
        lib = ctypes.CDLL(str(path))
        err_pp = ctypes.POINTER(ctypes.c_void_p)
        sigs = {
            "ocikms_version": ([], ctypes.c_char_p),
            "ocikms_status_name": ([ctypes.c_int32], ctypes.c_char_p),
            "ocikms_seal_init": ([ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p), err_pp], ctypes.c_int32),
            "ocikms_seal_free": ([ctypes.c_void_p], None),
            "ocikms_encrypt": (
                [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(CallOpts), ctypes.POINTER(Buffer), err_pp],
                ctypes.c_int32,
            ),
            "ocikms_decrypt": (
                [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(CallOpts), ctypes.POINTER(Buffer), err_pp],
                ctypes.c_int32,
            ),
            "ocikms_key_version": ([ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), err_pp], ctypes.c_int32),
            "ocikms_metadata_json": ([ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), err_pp], ctypes.c_int32),
            "ocikms_string_free": ([ctypes.c_void_p], None),
            "ocikms_buffer_free": ([ctypes.POINTER(Buffer)], None),
            "ocikms_error_code": ([ctypes.c_void_p], ctypes.c_int32),
            "ocikms_error_message": ([ctypes.c_void_p], ctypes.c_char_p),
            "ocikms_error_oci_code": ([ctypes.c_void_p], ctypes.c_char_p),
            "ocikms_error_http_status": ([ctypes.c_void_p], ctypes.c_int32),
            "ocikms_error_opc_request_id": ([ctypes.c_void_p], ctypes.c_char_p),
            "ocikms_error_free": ([ctypes.c_void_p], None),
            "ocikms_set_log_callback": ([LOG_CALLBACK, ctypes.c_void_p], None),
            "ocikms_set_log_level": ([ctypes.c_int32, err_pp], ctypes.c_int32),
        }
        for name, (args, res) in sigs.items():
            fn = getattr(lib, name)
            fn.argtypes = args
            fn.restype = res
        self.lib = lib
        self._log_callback = None

    def set_log_callback(self, receive, level=3):
        """Routes the library's log lines to receive(level, message) (None stops them); level is
        the most verbose OCIKMS_LOG_* level passed (1 error .. 5 trace)."""
        if receive is None:
            self.lib.ocikms_set_log_callback(LOG_CALLBACK(), None)
            self._log_callback = None
            return
        err = ctypes.c_void_p()
        self.check(self.lib.ocikms_set_log_level(level, ctypes.byref(err)), err)
        # Kept referenced: the library calls it from its own threads until it is replaced.
        self._log_callback = LOG_CALLBACK(lambda lvl, msg, _user: receive(lvl, msg.decode("utf-8", "replace")))
        self.lib.ocikms_set_log_callback(self._log_callback, None)

    def version(self):
        return self.lib.ocikms_version().decode()

    def check(self, status, err):
        """Raises OcikmsError (and frees the error object) unless status is OK."""
        if status == OK:
            return
        e = err.value
        try:
            raise OcikmsError(
                status,
                self.lib.ocikms_status_name(status).decode(),
                self.lib.ocikms_error_message(e).decode() if e else "",
                self.lib.ocikms_error_oci_code(e).decode() if e else "",
                self.lib.ocikms_error_http_status(e) if e else 0,
                self.lib.ocikms_error_opc_request_id(e).decode() if e else "",
            )
        finally:
            self.lib.ocikms_error_free(e)

    def take_string(self, ptr):
        try:
            return ctypes.string_at(ptr.value).decode()
        finally:
            self.lib.ocikms_string_free(ptr)


class Seal:
    """An ocikms_seal handle; use as a context manager or call close()."""

    def __init__(self, library, config_json):
        self.library = library
        self.lib = library.lib
        handle = ctypes.c_void_p()
        err = ctypes.c_void_p()
        library.check(self.lib.ocikms_seal_init(config_json.encode(), ctypes.byref(handle), ctypes.byref(err)), err)
        self.handle = handle

    def close(self):
        if self.handle:
            self.lib.ocikms_seal_free(self.handle)
            self.handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def _opts(aad, without_envelope, timeout_ms):
        opts = CallOpts(
            struct_size=ctypes.sizeof(CallOpts), without_envelope=1 if without_envelope else 0, timeout_ms=timeout_ms
        )
        keep = None
        if aad is not None:
            keep = (ctypes.c_uint8 * len(aad)).from_buffer_copy(aad) if aad else (ctypes.c_uint8 * 1)()
            opts.aad = ctypes.cast(keep, ctypes.POINTER(ctypes.c_uint8))
            opts.aad_len = len(aad)
        return opts, keep

    def _call(self, fn, data, aad, without_envelope, timeout_ms):
        opts, _keep = self._opts(aad, without_envelope, timeout_ms)
        out = Buffer()
        err = ctypes.c_void_p()
        status = fn(self.handle, data, len(data), ctypes.byref(opts), ctypes.byref(out), ctypes.byref(err))
        self.library.check(status, err)
        try:
            return ctypes.string_at(out.data, out.len)
        finally:
            self.lib.ocikms_buffer_free(ctypes.byref(out))

    def encrypt(self, plaintext, aad=None, without_envelope=False, timeout_ms=0):
        """Returns the BlobInfo protobuf bytes Vault stores."""
        return self._call(self.lib.ocikms_encrypt, plaintext, aad, without_envelope, timeout_ms)

    def decrypt(self, blob, aad=None, timeout_ms=0):
        """Accepts BlobInfo bytes or the multiwrapvalue:1 form."""
        return self._call(self.lib.ocikms_decrypt, blob, aad, False, timeout_ms)

    def key_version(self):
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        self.library.check(self.lib.ocikms_key_version(self.handle, ctypes.byref(out), ctypes.byref(err)), err)
        return self.library.take_string(out)

    def metadata_json(self):
        out = ctypes.c_void_p()
        err = ctypes.c_void_p()
        self.library.check(self.lib.ocikms_metadata_json(self.handle, ctypes.byref(out), ctypes.byref(err)), err)
        return self.library.take_string(out)
