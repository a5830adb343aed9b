-- CreateTable
CREATE TABLE "conversation_clocks" (
    "user_low" BIGINT NOT NULL,
    "user_high" BIGINT NOT NULL,
    "last_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "conversation_clocks_pkey" PRIMARY KEY ("user_low","user_high")
);

