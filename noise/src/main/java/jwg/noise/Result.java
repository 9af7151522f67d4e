package jwg.noise;

/** The outcome of consuming a message: the value it yields, or the reason it was dropped. */
public sealed interface Result<T> {
    record Ok<T>(T value) implements Result<T> {}

    record Dropped<T>(Drop reason) implements Result<T> {}

    static <T> Result<T> ok(T value) {
        return new Ok<>(value);
    }

    static <T> Result<T> dropped(Drop reason) {
        return new Dropped<>(reason);
    }

    default boolean isOk() {
        return this instanceof Ok;
    }

    /** The value, or null when dropped. */
    default T valueOrNull() {
        return this instanceof Ok<T> ok ? ok.value() : null;
    }
}
