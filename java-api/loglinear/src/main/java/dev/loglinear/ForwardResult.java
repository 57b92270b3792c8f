package dev.loglinear;

import java.util.Optional;

/** What a forward call returns: the output and, when asked for, the final state. */
public final class ForwardResult implements AutoCloseable {
    private final Tensor output;
    private final State finalState;

    ForwardResult(Tensor output, State finalState) {
        this.output = output;
        this.finalState = finalState;
    }

    /** The output {@code o [B, T, H, V]}, in memory of the same kind as {@code v}. */
    public Tensor output() {
        return output;
    }

    /**
     * The canonical state ready for each sequence's next token, when the call was asked to export
     * it: pass it as the initial state of the next call to continue the sequences.
     */
    public Optional<State> finalState() {
        return Optional.ofNullable(finalState);
    }

    /** Frees the CUDA memory of the output and the final state, when the call allocated it there. */
    @Override
    public void close() {
        output.close();
        if (finalState != null) {
            finalState.close();
        }
    }
}
