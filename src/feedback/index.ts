export { FeedbackStore, type FeedbackValue, type FeedbackVote } from "./store.js";
