// One request stream of an HTTP/2 server connection, as the application sees it: the request's
// pseudo-headers and content-type, callbacks for its body, and the calls that answer it. The
// connection (connection.ts) does the framing and flow control; a stream holds its state.

/** What a stream asks of its connection (implemented by Http2ServerConnection). */
export interface StreamSink {
  sendHeaders(stream: Http2ServerStream, block: Buffer, endStream: boolean): void;
  sendData(stream: Http2ServerStream, data: Uint8Array): void;
  sendTrailers(stream: Http2ServerStream, block: Buffer): void;
  sendAnswer(stream: Http2ServerStream, headers: Buffer, body: readonly Uint8Array[], trailers: Buffer): void;
  resetStream(stream: Http2ServerStream, code: number): void;
}

export class Http2ServerStream {
  /**
   * Request body chunks (DATA payloads, padding removed), in order; `endStream` when the frame
   * also ends the request. A chunk is a view of the socket's read buffer: one kept beyond this call
   * keeps that whole buffer alive (copy it, unless it is the whole body).
   */
  onData: ((chunk: Buffer, endStream: boolean) => void) | undefined = undefined;
  /** The request ended (END_STREAM). */
  onEnd: (() => void) | undefined = undefined;
  /** The stream closed: answered and read to the end, reset by either side, or its connection gone. Called once. */
  onClose: (() => void) | undefined = undefined;

  /** The client sent END_STREAM. */
  remoteEnded = false;
  /** We sent END_STREAM (queued it for the socket). */
  localEnded = false;
  /** Nothing more can be sent or received on it. */
  closed = false;
  headersSent = false;

  // Flow control and queued output, kept by the connection.
  sendWindow: number;
  recvWindow: number;
  recvConsumed = 0;
  pending: Uint8Array[] | undefined = undefined;
  /** Octets in `pending`. */
  pendingBytes = 0;
  pendingTrailers: Buffer | undefined = undefined;
  /** Reset with NO_ERROR once answered, if the client has not finished sending (stopReading). */
  stopAfterAnswer = false;

  constructor(
    private readonly sink: StreamSink,
    readonly id: number,
    readonly method: string,
    readonly path: string,
    readonly contentType: string | undefined,
    sendWindow: number,
    recvWindow: number,
  ) {
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  /** Response headers (an HPACK block); `endStream` for a headers-only answer. */
  respond(block: Buffer, endStream = false): void {
    this.sink.sendHeaders(this, block, endStream);
  }

  /** Response body bytes (after respond()), sent as flow control allows. */
  write(data: Uint8Array): void {
    this.sink.sendData(this, data);
  }

  /** Ends the response with trailers, after the data written so far. */
  end(trailers: Buffer): void {
    this.sink.sendTrailers(this, trailers);
  }

  /** respond() + write() of each body part + end(), in one output write when flow control allows. */
  answer(headers: Buffer, body: readonly Uint8Array[], trailers: Buffer): void {
    this.sink.sendAnswer(this, headers, body, trailers);
  }

  /** RST_STREAM with `code`: the stream is closed at once. */
  reset(code: number): void {
    this.sink.resetStream(this, code);
  }

  /**
   * After an early answer: the client need not send the rest of its request. Once the answer is
   * out, a stream the client has not ended is reset with NO_ERROR (RFC 9113 §8.1).
   */
  stopReading(): void {
    if (this.closed || this.remoteEnded) return;
    if (this.localEnded) this.sink.resetStream(this, 0);
    else this.stopAfterAnswer = true;
  }
}
