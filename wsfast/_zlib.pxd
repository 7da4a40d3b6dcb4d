# zlib's C API as the compiled permessage-deflate engines use it (_inflate_c,
# _deflate_c; both link the system zlib), and the allocator they give it.

cdef extern from "Python.h" nogil:
    void *PyMem_RawCalloc(size_t nelem, size_t elsize)
    void PyMem_RawFree(void *p)

cdef extern from "zlib.h" nogil:
    ctypedef struct z_stream:
        unsigned char *next_in
        unsigned int avail_in
        unsigned char *next_out
        unsigned int avail_out
        const char *msg
        void *zalloc
        void *zfree
        void *opaque
    int inflateInit2(z_stream *strm, int windowBits)
    int inflate(z_stream *strm, int flush)
    int inflateReset(z_stream *strm)
    int inflateSetDictionary(z_stream *strm, const unsigned char *dictionary,
                             unsigned int dictLength)
    int inflateEnd(z_stream *strm)
    int deflateInit2(z_stream *strm, int level, int method, int windowBits, int memLevel,
                     int strategy)
    int deflate(z_stream *strm, int flush)
    int deflateEnd(z_stream *strm)
    unsigned long deflateBound(z_stream *strm, unsigned long sourceLen)
    const char *zlibVersion()
    enum:
        Z_OK
        Z_STREAM_END
        Z_NEED_DICT
        Z_BUF_ERROR
        Z_DATA_ERROR
        Z_MEM_ERROR
        Z_STREAM_ERROR
        Z_VERSION_ERROR
        Z_NO_FLUSH
        Z_SYNC_FLUSH
        Z_FULL_FLUSH
        Z_DEFLATED
        Z_DEFAULT_STRATEGY
    const char *ZLIB_VERSION


# zlib's memory through Python's raw allocator, as the zlib module does:
# tracemalloc sees it (the memory tests count it).
cdef inline void *_zalloc(void *opaque, unsigned int items, unsigned int size) noexcept nogil:
    return PyMem_RawCalloc(items, size)


cdef inline void _zfree(void *opaque, void *address) noexcept nogil:
    PyMem_RawFree(address)
